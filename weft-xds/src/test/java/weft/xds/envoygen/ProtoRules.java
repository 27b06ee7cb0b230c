package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.pgv.validate.Validate;
import io.envoyproxy.pgv.validate.Validate.FieldRules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The protoc-gen-validate rules Envoy's API carries (required fields, minimum lengths, ranges,
 * required oneofs), checked on generated resources. Envoy rejects a resource that breaks one, so
 * a test that passes here has cleared Envoy's first line of validation without an Envoy binary.
 */
public final class ProtoRules {
  private static final Map<String, Message> KNOWN = new HashMap<>();

  static {
    for (Message m : List.<Message>of(
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDefaultInstance(),
        io.envoyproxy.envoy.config.listener.v3.Listener.getDefaultInstance(),
        io.envoyproxy.envoy.config.cluster.v3.Cluster.getDefaultInstance(),
        io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDefaultInstance(),
        io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.getDefaultInstance(),
        // What EnvoyFilter and WasmPlugin tests insert.
        io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.getDefaultInstance(),
        com.github.udpa.udpa.type.v1.TypedStruct.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol.getDefaultInstance(),
        com.google.protobuf.StringValue.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDefaultInstance(),
        io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter.getDefaultInstance(),
        io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDefaultInstance(),
        io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDefaultInstance(),
        io.envoyproxy.envoy.config.trace.v3.DatadogConfig.getDefaultInstance())) {
      KNOWN.put("type.googleapis.com/" + m.getDescriptorForType().getFullName(), m);
    }
  }

  private ProtoRules() {}

  /** Every broken rule, as {@code path: what}; empty when the resource passes. */
  public static List<String> violations(Any resource) {
    List<String> out = new ArrayList<>();
    any(resource, "", out);
    return out;
  }

  private static void any(Any a, String path, List<String> out) {
    Message type = KNOWN.get(a.getTypeUrl());
    if (type == null) {
      out.add(path + ": Any of unknown type " + a.getTypeUrl() + " (add it to ProtoRules.KNOWN)");
      return;
    }
    try {
      message(type.getParserForType().parseFrom(a.getValue()), path, out);
    } catch (InvalidProtocolBufferException e) {
      out.add(path + ": " + e);
    }
  }

  private static void message(Message m, String path, List<String> out) {
    for (OneofDescriptor o : m.getDescriptorForType().getRealOneofs()) {
      if (o.getOptions().getExtension(Validate.required) && !m.hasOneof(o)) {
        out.add(path + "." + o.getName() + ": one of the oneof is required");
      }
    }
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      FieldRules rules = f.getOptions().hasExtension(Validate.rules) ? f.getOptions().getExtension(Validate.rules) : null;
      String p = path + "." + f.getName();
      // Only the member of a oneof that is set is validated.
      if (f.getRealContainingOneof() != null && !m.hasField(f)) continue;
      if (f.isMapField()) {
        for (Object entry : (List<?>) m.getField(f)) {
          Message e = (Message) entry;
          FieldDescriptor value = e.getDescriptorForType().findFieldByName("value");
          if (value.getJavaType() == FieldDescriptor.JavaType.MESSAGE) nested((Message) e.getField(value), p + "[]", null, out);
        }
        continue;
      }
      if (f.isRepeated()) {
        int n = m.getRepeatedFieldCount(f);
        if (rules != null && rules.hasRepeated() && rules.getRepeated().hasMinItems() && n < rules.getRepeated().getMinItems()) {
          out.add(p + ": needs at least " + rules.getRepeated().getMinItems() + " items, has " + n);
        }
        FieldRules items = rules != null && rules.hasRepeated() && rules.getRepeated().hasItems() ? rules.getRepeated().getItems() : null;
        for (int i = 0; i < n; i++) value(f, m.getRepeatedField(f, i), p + "[" + i + "]", items, out);
        continue;
      }
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        boolean set = m.hasField(f);
        if (!set) {
          boolean required = rules != null && ((rules.hasMessage() && rules.getMessage().getRequired())
              || (rules.hasDuration() && rules.getDuration().getRequired())
              || (rules.hasAny() && rules.getAny().getRequired()));
          if (required) out.add(p + ": required");
          continue;
        }
      }
      value(f, m.getField(f), p, rules, out);
    }
  }

  private static void value(FieldDescriptor f, Object v, String p, FieldRules rules, List<String> out) {
    switch (f.getJavaType()) {
      case MESSAGE -> nested((Message) v, p, rules, out);
      case STRING -> {
        String s = (String) v;
        if (rules != null && rules.hasString()) {
          var r = rules.getString();
          if (r.getIgnoreEmpty() && s.isEmpty()) return;
          if (r.hasMinLen() && s.codePointCount(0, s.length()) < r.getMinLen()) out.add(p + ": shorter than " + r.getMinLen());
          if (r.hasMinBytes() && s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < r.getMinBytes()) {
            out.add(p + ": fewer than " + r.getMinBytes() + " bytes");
          }
        }
      }
      case INT, LONG -> {
        if (rules == null) return;
        long n = ((Number) v).longValue();
        if (f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32) n = Integer.toUnsignedLong((int) n);
        range(rules, n, p, out);
      }
      case DOUBLE, FLOAT -> {
        if (rules != null && rules.hasDouble()) {
          double d = ((Number) v).doubleValue();
          var r = rules.getDouble();
          if ((r.hasGt() && !(d > r.getGt())) || (r.hasGte() && d < r.getGte()) || (r.hasLt() && !(d < r.getLt()))
              || (r.hasLte() && d > r.getLte())) {
            out.add(p + ": " + d + " out of range " + r);
          }
        }
      }
      case ENUM -> {
        if (rules != null && rules.hasEnum() && rules.getEnum().getDefinedOnly() && ((EnumValueDescriptor) v).getIndex() < 0) {
          out.add(p + ": undefined enum value");
        }
      }
      default -> { }
    }
  }

  private static void range(FieldRules rules, long n, String p, List<String> out) {
    Long gt = null, gte = null, lt = null, lte = null;
    if (rules.hasUint32()) {
      var r = rules.getUint32();
      if (r.hasGt()) gt = Integer.toUnsignedLong(r.getGt());
      if (r.hasGte()) gte = Integer.toUnsignedLong(r.getGte());
      if (r.hasLt()) lt = Integer.toUnsignedLong(r.getLt());
      if (r.hasLte()) lte = Integer.toUnsignedLong(r.getLte());
    } else if (rules.hasUint64()) {
      var r = rules.getUint64();
      if (r.hasGt()) gt = r.getGt();
      if (r.hasGte()) gte = r.getGte();
      if (r.hasLt()) lt = r.getLt();
      if (r.hasLte()) lte = r.getLte();
    } else if (rules.hasInt32()) {
      var r = rules.getInt32();
      if (r.hasGt()) gt = (long) r.getGt();
      if (r.hasGte()) gte = (long) r.getGte();
      if (r.hasLt()) lt = (long) r.getLt();
      if (r.hasLte()) lte = (long) r.getLte();
    } else if (rules.hasInt64()) {
      var r = rules.getInt64();
      if (r.hasGt()) gt = r.getGt();
      if (r.hasGte()) gte = r.getGte();
      if (r.hasLt()) lt = r.getLt();
      if (r.hasLte()) lte = r.getLte();
    } else {
      return;
    }
    if ((gt != null && n <= gt) || (gte != null && n < gte) || (lt != null && n >= lt) || (lte != null && n > lte)) {
      out.add(p + ": " + n + " out of range");
    }
  }

  private static void nested(Message v, String p, FieldRules rules, List<String> out) {
    if (v instanceof Any a) {
      any(a, p, out);
      return;
    }
    if (v instanceof Duration d) {
      if (rules != null && rules.hasDuration()) {
        var r = rules.getDuration();
        long nanos = d.getSeconds() * 1_000_000_000L + d.getNanos();
        if ((r.hasGt() && nanos <= nanos(r.getGt())) || (r.hasGte() && nanos < nanos(r.getGte()))
            || (r.hasLt() && nanos >= nanos(r.getLt())) || (r.hasLte() && nanos > nanos(r.getLte()))) {
          out.add(p + ": duration " + d + " out of range");
        }
      }
      return;
    }
    String name = v.getDescriptorForType().getFullName();
    if (name.startsWith("google.protobuf.") && name.endsWith("Value")) {
      // Wrappers carry the rules of their value.
      FieldDescriptor inner = v.getDescriptorForType().findFieldByName("value");
      if (inner != null) value(inner, v.getField(inner), p, rules, out);
      return;
    }
    if (rules != null && rules.hasMessage() && rules.getMessage().getSkip()) return;
    message(v, p, out);
  }

  private static long nanos(Duration d) {
    return d.getSeconds() * 1_000_000_000L + d.getNanos();
  }
}
