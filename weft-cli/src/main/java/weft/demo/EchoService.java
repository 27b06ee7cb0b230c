package weft.demo;

import com.google.protobuf.StringValue;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;

/**
 * A one-method gRPC service that answers with the name of the server that handled the call, so a
 * client can see where load balancing sent it. Built by hand to need no generated code.
 */
public final class EchoService {
  public static final MethodDescriptor<StringValue, StringValue> WHO = MethodDescriptor
      .<StringValue, StringValue>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("weft.demo.Echo/Who")
      .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
      .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
      .build();

  private EchoService() {}

  /** A service whose every answer is {@code name}. */
  public static ServerServiceDefinition named(String name) {
    return ServerServiceDefinition.builder("weft.demo.Echo")
        .addMethod(WHO, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext(StringValue.of(name));
          response.onCompleted();
        }))
        .build();
  }
}
