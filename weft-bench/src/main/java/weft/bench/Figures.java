package weft.bench;

/**
 * The figures of one stream benchmark run, all from that run: what the reports print and the
 * sizing table compares. Durations are milliseconds, sizes KB.
 *
 * @param readyMillis control-plane start → {@code /ready} answers 200
 * @param syncMillis first stream opened → every stream synced (and ACKed)
 * @param heapBeforeKb live heap after a full GC, before any stream connects
 * @param heapWithStreamsKb the same once every stream has synced
 * @param peakHeapKb the most heap in use before any collection, from start-up to the end of the changes
 * @param everyP50Ms change on disk → every stream has it, median over the measured changes
 * @param everyP99Ms the same, 99th percentile
 * @param cpuPerChangeMs the control plane's CPU per change, mean
 * @param statusP50Ms {@code GET /debug/status} with every stream connected and synced (after the changes), median
 * @param statusMaxMs the same, slowest
 * @param missed stream updates that did not arrive in time
 */
record Figures(int services, int streams, long readyMillis, long syncMillis, long heapBeforeKb,
    long heapWithStreamsKb, long peakHeapKb, double everyP50Ms, double everyP99Ms, double cpuPerChangeMs,
    double statusP50Ms, double statusMaxMs, int missed) {

  /** What each connected proxy adds to the control plane's live heap. */
  double heapPerProxyKb() {
    return (heapWithStreamsKb - heapBeforeKb) / (double) streams;
  }
}
