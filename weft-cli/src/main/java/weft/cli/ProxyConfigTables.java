package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * istioctl-style tables over the config dump JSON ({@code /debug/config_dump}): one row per cluster,
 * endpoint, listener, route or secret, columns padded to their widest cell. The JSON stays the
 * source: these tables only read it.
 */
final class ProxyConfigTables {
  private ProxyConfigTables() {}

  static void print(JsonNode dump, String type, PrintWriter out) {
    boolean all = type.equals("all");
    boolean first = true;
    for (JsonNode section : dump.path("configs")) {
      String t = section.path("@type").asText();
      Table table;
      String name;
      if (t.endsWith("ClustersConfigDump")) {
        name = "clusters";
        table = clusters(section);
      } else if (t.endsWith("EndpointsConfigDump")) {
        name = "endpoints";
        table = endpoints(section);
      } else if (t.endsWith("ListenersConfigDump")) {
        name = "listeners";
        table = listeners(section);
      } else if (t.endsWith("RoutesConfigDump")) {
        name = "routes";
        table = routes(section);
      } else if (t.endsWith("SecretsConfigDump")) {
        name = "secrets";
        table = secrets(section);
      } else {
        continue;
      }
      if (!all && !name.equals(type)) continue;
      if (all) {
        if (!first) out.println();
        out.println("# " + name);
      }
      first = false;
      table.print(out);
    }
    out.flush();
  }

  private static Table clusters(JsonNode section) {
    Table t = new Table("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "TLS", "STATUS");
    for (JsonNode c : section.path("dynamic_active_clusters")) {
      JsonNode cluster = c.path("cluster");
      String name = cluster.path("name").asText();
      String[] parts = name.split("\\|", -1);
      String type = cluster.has("type") ? cluster.path("type").asText()
          : cluster.has("cluster_type") ? cluster.path("cluster_type").path("name").asText() : "EDS";
      String tls = cluster.has("transport_socket") ? "mTLS/TLS" : "-";
      if (parts.length == 4) {
        t.row(parts[3], parts[1], parts[2].isEmpty() ? "-" : parts[2], parts[0], type, tls, status(c));
      } else {
        t.row(name, "-", "-", "-", type, tls, status(c));
      }
    }
    return t;
  }

  private static Table endpoints(JsonNode section) {
    Table t = new Table("ENDPOINT", "STATUS", "CLUSTER", "LOCALITY", "PRIORITY", "WEIGHT");
    for (JsonNode e : section.path("dynamic_endpoint_configs")) {
      JsonNode cla = e.path("endpoint_config");
      String cluster = cla.path("cluster_name").asText();
      boolean any = false;
      for (JsonNode group : cla.path("endpoints")) {
        JsonNode l = group.path("locality");
        String locality = l.path("region").asText() + "/" + l.path("zone").asText()
            + (l.path("sub_zone").asText().isEmpty() ? "" : "/" + l.path("sub_zone").asText());
        for (JsonNode lb : group.path("lb_endpoints")) {
          JsonNode a = lb.path("endpoint").path("address").path("socket_address");
          String health = lb.path("health_status").asText("HEALTHY");
          t.row(a.path("address").asText() + ":" + a.path("port_value").asText(), health.isEmpty() ? "HEALTHY" : health,
              cluster, locality.equals("/") ? "-" : locality, group.path("priority").asText("0"),
              group.path("load_balancing_weight").asText("-"));
          any = true;
        }
      }
      if (!any) t.row("-", "no endpoints", cluster, "-", "-", "-");
    }
    return t;
  }

  private static Table listeners(JsonNode section) {
    Table t = new Table("NAME", "ADDRESS", "PORT", "KIND", "DESTINATION", "STATUS");
    for (JsonNode l : section.path("dynamic_listeners")) {
      JsonNode listener = l.path("active_state").path("listener");
      JsonNode sa = listener.path("address").path("socket_address");
      String kind;
      List<String> destinations = new ArrayList<>();
      if (listener.has("api_listener")) {
        kind = "gRPC API listener";
        collect(listener.path("api_listener"), destinations);
      } else {
        kind = listener.path("filter_chains").size() + " filter chain(s)";
        collect(listener.path("filter_chains"), destinations);
        collect(listener.path("default_filter_chain"), destinations);
      }
      t.row(l.path("name").asText(), sa.path("address").asText("-"), sa.path("port_value").asText("-"), kind,
          destinations.isEmpty() ? "-" : String.join(",", destinations.stream().distinct().toList()), status(l));
    }
    return t;
  }

  /** Route config names and clusters named anywhere under a node. */
  private static void collect(JsonNode node, List<String> out) {
    if (node.isObject()) {
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        JsonNode v = node.get(f);
        if ((f.equals("route_config_name") || f.equals("cluster")) && v.isTextual()) {
          out.add((f.equals("route_config_name") ? "Route: " : "Cluster: ") + v.asText());
        } else {
          collect(v, out);
        }
      }
    } else if (node.isArray()) {
      for (JsonNode v : node) collect(v, out);
    }
  }

  private static Table routes(JsonNode section) {
    Table t = new Table("NAME", "VHOST", "DOMAINS", "MATCH", "DESTINATION");
    for (JsonNode r : section.path("dynamic_route_configs")) {
      JsonNode rc = r.path("route_config");
      String name = rc.path("name").asText();
      for (JsonNode vh : rc.path("virtual_hosts")) {
        List<String> domains = new ArrayList<>();
        vh.path("domains").forEach(d -> domains.add(d.asText()));
        String d = domains.size() <= 2 ? String.join(",", domains) : domains.get(0) + " +" + (domains.size() - 1) + " more";
        for (JsonNode route : vh.path("routes")) {
          t.row(name, vh.path("name").asText(), d, match(route.path("match")), destination(route));
        }
        if (vh.path("routes").isEmpty()) t.row(name, vh.path("name").asText(), d, "-", "-");
      }
    }
    return t;
  }

  private static String match(JsonNode m) {
    String base = m.has("prefix") ? m.path("prefix").asText() + "*" : m.has("path") ? m.path("path").asText()
        : m.has("safe_regex") ? "~" + m.path("safe_regex").path("regex").asText()
        : m.has("path_separated_prefix") ? m.path("path_separated_prefix").asText() + "/*" : "*";
    int headers = m.path("headers").size() + m.path("query_parameters").size();
    return headers == 0 ? base : base + " +" + headers + " condition(s)";
  }

  private static String destination(JsonNode route) {
    if (route.has("route")) {
      JsonNode r = route.path("route");
      if (r.has("cluster")) return r.path("cluster").asText();
      List<String> parts = new ArrayList<>();
      for (JsonNode c : r.path("weighted_clusters").path("clusters")) {
        parts.add(c.path("name").asText() + " " + c.path("weight").asText() + "%");
      }
      return parts.isEmpty() ? "-" : String.join(", ", parts);
    }
    if (route.has("redirect")) return "redirect";
    if (route.has("direct_response")) return "direct response " + route.path("direct_response").path("status").asText();
    if (route.has("non_forwarding_action")) return "non-forwarding";
    return "-";
  }

  private static Table secrets(JsonNode section) {
    Table t = new Table("RESOURCE NAME", "TYPE", "STATUS");
    for (JsonNode s : section.path("dynamic_active_secrets")) {
      JsonNode secret = s.path("secret");
      String type = secret.has("tls_certificate") ? "Cert Chain" : secret.has("validation_context") ? "CA"
          : secret.has("session_ticket_keys") ? "Session keys" : secret.has("generic_secret") ? "Generic" : "-";
      t.row(s.path("name").asText(), type, status(s));
    }
    return t;
  }

  /** ACKED once the proxy holds what was last generated; REQUESTED while something is pending. */
  private static String status(JsonNode entry) {
    String s = entry.path("client_status").asText();
    return s.isEmpty() ? "ACKED" : s;
  }

  /** Rows padded to the widest cell of each column, as istioctl prints them. */
  private static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void row(String... cells) {
      rows.add(cells);
    }

    void print(PrintWriter out) {
      int[] widths = new int[rows.get(0).length];
      for (String[] r : rows) for (int i = 0; i < r.length; i++) widths[i] = Math.max(widths[i], r[i].length());
      for (String[] r : rows) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < r.length; i++) {
          b.append(r[i]);
          if (i < r.length - 1) b.append(" ".repeat(widths[i] - r[i].length() + 3));
        }
        out.println(b.toString().stripTrailing());
      }
    }
  }
}
