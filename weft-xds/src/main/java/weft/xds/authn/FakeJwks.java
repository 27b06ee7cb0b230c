package weft.xds.authn;

/**
 * The key set sent when an issuer's real keys are not known (never fetched, or the fetch failed before any
 * success), as Istio does (CreateFakeJwks): a well-formed RSA public key whose private key was thrown away
 * when it was made, so Envoy loads the listener but no token verifies and every request carrying one is
 * refused with 401. Requests without a token are unaffected. A constant, so that control planes agree byte
 * for byte.
 */
final class FakeJwks {
  static final String JWKS = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"weft-keys-unavailable\",\"alg\":\"RS256\","
      + "\"use\":\"sig\",\"e\":\"AQAB\",\"n\":\"tyhN9dsH3ma2hQyEj9HVLs-79PS7LkRedDmpvK9DJBnS6W4fOh1D-y3kkYZJRjzItts"
      + "o4qIJFKD3mfaM-nBBTE95Ob-WTfi21fylUXAYWxHDqdSAuvOfFfc78a8b9zgOahq6_MmaRSOSOEpKOAcQs-p-9brHJZORjtt8AD_GaxFjZ"
      + "WdJbHwUSclcWcbWhZ933fY6h-ak3_DCsq7B6M3FaLb8Y0NEFXEnJTWLiQlAPR_C4BPxylXB6j-Iaxft_O1TwA1xlLYh7ZS_J9ZVyr8VBpnr"
      + "L1If3Gny4_J-dOMvlo-B_afcH81kp9mGTJ-usLLaMjqTN0BcN9JBcD8sSiOJiQ\"}]}";

  private FakeJwks() {}
}
