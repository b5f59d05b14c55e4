package io.ringtmp.ps;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.Sequential;
import io.ringtmp.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the parameters are cut among the servers. All parameters, in model order and each
 * row-major, form one key space {@code [0, total)}; server s holds the contiguous range
 * {@code [floor(s·total/S), floor((s+1)·total/S))}, so shards differ in size by at most one
 * parameter and a cut may fall inside a tensor. Each range travels as {@link Chunk}s of at most
 * {@code maxChunk} keys, one flat tensor per message.
 *
 * <p>Immutable and thread-safe. The copy helpers ({@link #gatherInto}, {@link #scatter}) touch
 * only the tensors they are given, on the caller's thread.
 */
public final class KeyRanges {
    /** A contiguous run of keys {@code [from, to)} of server {@code server}'s range, number {@code index} in it. */
    public record Chunk(int server, int index, int from, int to) {
        public int size() {
            return to - from;
        }
    }

    private final int[] starts;
    private final int total;
    private final int servers;
    private final List<List<Chunk>> chunks;

    /**
     * @param parameterSizes element counts of the parameters in model order
     * @param servers        S, at least 1 and at most the total number of keys
     * @param maxChunk       most keys per chunk, at least 1
     */
    public KeyRanges(int[] parameterSizes, int servers, int maxChunk) {
        if (servers < 1) {
            throw new IllegalArgumentException("servers must be at least 1, got " + servers);
        }
        if (maxChunk < 1) {
            throw new IllegalArgumentException("maxChunk must be at least 1, got " + maxChunk);
        }
        starts = new int[parameterSizes.length + 1];
        long n = 0;
        for (int i = 0; i < parameterSizes.length; i++) {
            if (parameterSizes[i] < 0) {
                throw new IllegalArgumentException("parameter " + i + " has negative size " + parameterSizes[i]);
            }
            starts[i] = (int) n;
            n += parameterSizes[i];
            if (n > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("the model has more than 2^31 parameters: " + n + " so far");
            }
        }
        starts[parameterSizes.length] = (int) n;
        total = (int) n;
        if (servers > total) {
            throw new IllegalArgumentException(servers + " servers for a model of " + total + " parameters: each needs at least one");
        }
        this.servers = servers;
        List<List<Chunk>> all = new ArrayList<>(servers);
        for (int s = 0; s < servers; s++) {
            int from = from(s), size = to(s) - from;
            int count = Math.max(1, (size + maxChunk - 1) / maxChunk);
            List<Chunk> cs = new ArrayList<>(count);
            for (int c = 0; c < count; c++) {
                // Equal chunks (to one key), so that no message is a small leftover.
                cs.add(new Chunk(s, c, from + (int) ((long) c * size / count), from + (int) ((long) (c + 1) * size / count)));
            }
            all.add(List.copyOf(cs));
        }
        chunks = List.copyOf(all);
    }

    /** The ranges of {@code model}'s parameters. */
    public static KeyRanges of(List<Parameter> parameters, int servers, int maxChunk) {
        return new KeyRanges(parameters.stream().mapToInt(Parameter::size).toArray(), servers, maxChunk);
    }

    /**
     * The parameter sizes of {@code spec}, in model order, found by building one layer at a
     * time (so a server never holds the whole model).
     */
    public static int[] parameterSizes(ModelSpec spec) {
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < spec.layers().size(); i++) {
            for (Parameter p : spec.build(0, i, i + 1).parameters()) {
                sizes.add(p.size());
            }
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Server {@code server}'s initial values: its range of the weights {@code spec.build(seed)}
     * would make, building one layer at a time.
     */
    public Tensor initialValues(ModelSpec spec, long seed, int server) {
        Tensor out = Tensor.zeros(size(server));
        int key = 0;
        List<Tensor> one = new ArrayList<>(2);
        for (int i = 0; i < spec.layers().size() && key < to(server); i++) {
            int layerKeys = 0;
            Sequential layer = spec.build(seed, i, i + 1);
            one.clear();
            for (Parameter p : layer.parameters()) {
                one.add(p.value());
                layerKeys += p.size();
            }
            int lo = Math.max(key, from(server)), hi = Math.min(key + layerKeys, to(server));
            if (lo < hi) {
                gatherRange(one, lo - key, hi - key, out.data(), lo - from(server), false);
            }
            key += layerKeys;
        }
        return out;
    }

    public int total() {
        return total;
    }

    public int servers() {
        return servers;
    }

    /** First key of server {@code s}'s range. */
    public int from(int s) {
        checkServer(s);
        return (int) ((long) s * total / servers);
    }

    /** One past the last key of server {@code s}'s range. */
    public int to(int s) {
        checkServer(s);
        return (int) ((long) (s + 1) * total / servers);
    }

    public int size(int s) {
        return to(s) - from(s);
    }

    /** Server {@code s}'s chunks, in key order. */
    public List<Chunk> chunks(int s) {
        checkServer(s);
        return chunks.get(s);
    }

    /** Chunks of all servers together. */
    public int chunkCount() {
        int n = 0;
        for (List<Chunk> c : chunks) {
            n += c.size();
        }
        return n;
    }

    /** The largest chunk of any server. */
    public int maxChunkSize() {
        int m = 0;
        for (List<Chunk> cs : chunks) {
            for (Chunk c : cs) {
                m = Math.max(m, c.size());
            }
        }
        return m;
    }

    private void checkServer(int s) {
        if (s < 0 || s >= servers) {
            throw new IllegalArgumentException("server must be in 0.." + (servers - 1) + ", got " + s);
        }
    }

    /**
     * Copies keys {@code [from, to)} of the concatenation of {@code tensors} (this layout's
     * parameters, in order) into {@code out[0 .. to-from)}; with {@code zero}, sets the copied
     * elements of {@code tensors} to 0 (a worker's gradients, consumed by the push).
     */
    public void gatherInto(List<Tensor> tensors, int from, int to, float[] out, boolean zero) {
        checkKeys(tensors, from, to);
        gatherRange(tensors, from, to, out, 0, zero);
    }

    /** Copies {@code src} (keys {@code [from, from + src.size())}) into the concatenation of {@code tensors}. */
    public void scatter(Tensor src, int from, List<Tensor> tensors) {
        int to = from + src.size();
        checkKeys(tensors, from, to);
        float[] s = src.data();
        int so = src.offset();
        int p = param(from);
        int key = from;
        while (key < to) {
            Tensor t = tensors.get(p);
            int off = key - starts[p];
            int n = Math.min(to - key, t.size() - off);
            System.arraycopy(s, so + key - from, t.data(), t.offset() + off, n);
            key += n;
            p++;
        }
    }

    private void checkKeys(List<Tensor> tensors, int from, int to) {
        if (tensors.size() != starts.length - 1) {
            throw new IllegalArgumentException("expected the " + (starts.length - 1) + " parameters of this layout, got "
                    + tensors.size() + " tensors");
        }
        if (from < 0 || to > total || from > to) {
            throw new IllegalArgumentException("keys [" + from + ", " + to + ") outside [0, " + total + ")");
        }
    }

    /** The parameter that holds key {@code key}. */
    private int param(int key) {
        int i = Arrays.binarySearch(starts, key);
        if (i < 0) {
            return -i - 2;
        }
        // Several parameters may start at this key when some are empty: take the non-empty one.
        while (i < starts.length - 2 && starts[i + 1] == key) {
            i++;
        }
        return i;
    }

    /** Gathers keys [from, to) relative to the list's own concatenation (which starts at key 0). */
    private static void gatherRange(List<Tensor> tensors, int from, int to, float[] out, int outOff, boolean zero) {
        int base = 0;
        for (Tensor t : tensors) {
            int lo = Math.max(from, base), hi = Math.min(to, base + t.size());
            if (lo < hi) {
                int off = t.offset() + lo - base;
                System.arraycopy(t.data(), off, out, outOff + lo - from, hi - lo);
                if (zero) {
                    Arrays.fill(t.data(), off, off + hi - lo, 0f);
                }
            }
            base += t.size();
            if (base >= to) {
                break;
            }
        }
    }
}
