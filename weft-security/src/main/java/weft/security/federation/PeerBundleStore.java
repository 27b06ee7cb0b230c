package weft.security.federation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The peers' last good bundles, kept in the state folder ({@code federation-peers/TRUST_DOMAIN.json},
 * each a SPIFFE bundle document), so a restarted control plane keeps trusting a peer before its
 * first fetch (or while the peer's endpoint is away), as SPIRE keeps federated bundles in its
 * datastore. Without it, a restart would tell every workload to drop the peer until the next fetch,
 * and each call from that peer in between would be refused.
 *
 * <p>A file that cannot be read is skipped with a warning (the peer is fetched as if new). Files
 * are replaced atomically. Thread-safety: {@link #save} is synchronized; {@link #load} is called once.
 */
public final class PeerBundleStore {
  private static final System.Logger LOG = System.getLogger(PeerBundleStore.class.getName());
  static final String DIR = "federation-peers";
  private static final String SUFFIX = ".json";
  // A trust domain as a file name: SPIFFE's grammar has no '/' and our own files need no more.
  private static final Pattern FILE_SAFE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,254}");
  private final Path dir;
  // @GuardedBy("this"): what was written last per domain, so an unchanged bundle is not rewritten.
  private final Map<String, String> written = new HashMap<>();

  /** @param stateDir the control plane's state folder; null: nothing kept */
  public PeerBundleStore(Path stateDir) {
    this.dir = stateDir == null ? null : stateDir.resolve(DIR);
  }

  /** The bundles kept, by trust domain; empty without a state folder. */
  public Map<String, SpiffeBundle> load() {
    Map<String, SpiffeBundle> out = new TreeMap<>();
    if (dir == null || !Files.isDirectory(dir)) return out;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        String td = name.substring(0, name.length() - SUFFIX.length());
        if (!FILE_SAFE.matcher(td).matches() || !Files.isRegularFile(f)) continue;
        try {
          if (Files.size(f) > SpiffeBundle.MAX_BYTES) throw new BundleException("larger than " + SpiffeBundle.MAX_BYTES);
          byte[] body = Files.readAllBytes(f);
          out.put(td, SpiffeBundle.parse(td, body, Duration.ofMinutes(5)));
          synchronized (this) {
            written.put(td, new String(body, StandardCharsets.UTF_8));
          }
        } catch (IOException | BundleException | RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, f + ": " + e.getMessage() + "; trust domain " + td
              + " is fetched as if new");
        }
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, dir + ": " + e.getMessage() + "; no kept peer bundle is used");
    }
    return out;
  }

  /** Keeps each peer's bundle in force now; forgets peers no longer listed. A failed write is logged. */
  public synchronized void save(Map<String, SpiffeBundle> bundles) {
    if (dir == null) return;
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, SpiffeBundle> e : bundles.entrySet()) {
        String td = e.getKey();
        if (!FILE_SAFE.matcher(td).matches()) continue;
        String json = e.getValue().toJson();
        if (json.equals(written.get(td))) continue;
        Path tmp = dir.resolve(td + SUFFIX + ".tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(td + SUFFIX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        written.put(td, json);
      }
      for (String td : Map.copyOf(written).keySet()) {
        if (!bundles.containsKey(td)) {
          Files.deleteIfExists(dir.resolve(td + SUFFIX));
          written.remove(td);
        }
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, dir + ": cannot keep the peers' bundles (" + e.getMessage()
          + "); a restart would wait for their next fetch");
    }
  }
}
