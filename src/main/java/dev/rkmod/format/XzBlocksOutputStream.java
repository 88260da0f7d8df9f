package dev.rkmod.format;

import org.tukaani.xz.ArrayCache;
import org.tukaani.xz.BasicArrayCache;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.UnsupportedOptionsException;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;

/**
 * An .xz stream written as independent blocks compressed in parallel, the way {@code xz -T} and dpkg-deb's
 * threaded compressor write them: the input is cut into blocks of a fixed size (by default three times the
 * dictionary, xz's own default), each compressed on its own by XZ for Java, and the blocks are gathered into
 * one stream with one index. The output depends only on the input, the preset and the block size, never on
 * the number of threads, so it is reproducible. Any xz decoder reads it, single- or multi-threaded.
 */
public final class XzBlocksOutputStream extends OutputStream {
    private static final byte[] FOOTER_MAGIC = {'Y', 'Z'};

    private final OutputStream out;
    private final LZMA2Options options;
    private final int blockSize;
    private final ExecutorService pool;
    private final int maxInFlight;
    private final Deque<Future<byte[]>> inFlight = new ArrayDeque<>();
    /** Block buffers handed back by the compressing threads, so that each is allocated once. */
    private final java.util.concurrent.ConcurrentLinkedQueue<byte[]> free = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Reuses the encoders' large arrays (some 94 MiB at preset 6) from one block to the next. */
    private final ArrayCache arrays = BasicArrayCache.getInstance();
    private final List<long[]> records = new ArrayList<>();
    private byte[] block;
    private int filled;
    private boolean headerWritten;
    private boolean closed;

    /**
     * @param preset    the xz preset, 0 to 9
     * @param blockSize the uncompressed bytes of one block, or 0 for three times the preset's dictionary
     * @param threads   the blocks compressed at once (at least 1); does not change the output
     */
    public XzBlocksOutputStream(OutputStream out, int preset, int blockSize, int threads) throws UnsupportedOptionsException {
        this.out = out;
        this.options = new LZMA2Options(preset);
        this.blockSize = blockSize > 0 ? blockSize : (int) Math.min(Integer.MAX_VALUE - 64, 3L * options.getDictSize());
        int t = Math.max(1, threads);
        this.maxInFlight = t;
        this.pool = Executors.newFixedThreadPool(t, r -> {
            Thread th = new Thread(r, "xz-block");
            th.setDaemon(true);
            return th;
        });
    }

    /**
     * The default number of threads: the processors, bounded so that each has some 256 MiB of heap (a block of
     * 24 MiB twice, as input and compressed, and the encoder's 94 MiB at preset 6, with room to spare).
     */
    public static int defaultThreads() {
        long perThread = 256L << 20;
        long byMemory = Math.max(1, Runtime.getRuntime().maxMemory() / perThread);
        return (int) Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), byMemory));
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("the xz stream is closed");
        }
        while (len > 0) {
            if (block == null) {
                byte[] reused = free.poll();
                block = reused != null ? reused : new byte[blockSize];
                filled = 0;
            }
            int n = Math.min(len, blockSize - filled);
            System.arraycopy(b, off, block, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == blockSize) {
                submit();
            }
        }
    }

    private void submit() throws IOException {
        byte[] data = block;
        int size = filled;
        block = null;
        filled = 0;
        while (inFlight.size() >= maxInFlight) {
            drainOne();
        }
        inFlight.add(pool.submit(() -> compress(data, size)));
    }

    private byte[] compress(byte[] data, int size) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream(size / 4 + 1024);
        try (XZOutputStream xz = new XZOutputStream(bo, options, XZ.CHECK_CRC64, arrays)) {
            xz.write(data, 0, size);
        }
        if (data.length == blockSize) {
            free.add(data);
        }
        return bo.toByteArray();
    }

    /** Writes the oldest compressed block: the block of its one-block stream, its index record kept. */
    private void drainOne() throws IOException {
        byte[] stream;
        try {
            stream = inFlight.removeFirst().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        int n = stream.length;
        long backward = ((le32(stream, n - 8) & 0xFFFFFFFFL) + 1) * 4;
        int indexStart = (int) (n - 12 - backward);
        if (!headerWritten) {
            out.write(stream, 0, 12);
            headerWritten = true;
        }
        out.write(stream, 12, indexStart - 12);
        // the index of a one-block stream: indicator 0, record count 1, unpadded size, uncompressed size
        int[] pos = {indexStart + 1};
        long count = varint(stream, pos);
        if (stream[indexStart] != 0 || count != 1) {
            throw new IOException("XZ for Java wrote an unexpected index");
        }
        long unpadded = varint(stream, pos);
        long uncompressed = varint(stream, pos);
        records.add(new long[] {unpadded, uncompressed});
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    /** Compresses what is left, writes the index and the footer, and closes the underlying stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (filled > 0) {
                closed = false;
                submit();
                closed = true;
            }
            while (!inFlight.isEmpty()) {
                drainOne();
            }
            if (!headerWritten) {
                // no input at all: the stream of XZ for Java has no blocks and is complete as it is
                out.write(compress(new byte[0], 0));
            } else {
                writeIndexAndFooter();
            }
        } finally {
            pool.shutdownNow();
            out.close();
        }
    }

    private void writeIndexAndFooter() throws IOException {
        ByteArrayOutputStream index = new ByteArrayOutputStream();
        index.write(0);
        putVarint(index, records.size());
        for (long[] r : records) {
            putVarint(index, r[0]);
            putVarint(index, r[1]);
        }
        while (index.size() % 4 != 0) {
            index.write(0);
        }
        CRC32 crc = new CRC32();
        crc.update(index.toByteArray());
        putLe32(index, (int) crc.getValue());
        out.write(index.toByteArray());

        byte[] footer = new byte[12];
        int backward = index.size() / 4 - 1;
        footer[4] = (byte) backward;
        footer[5] = (byte) (backward >>> 8);
        footer[6] = (byte) (backward >>> 16);
        footer[7] = (byte) (backward >>> 24);
        footer[8] = 0;
        footer[9] = (byte) XZ.CHECK_CRC64;
        CRC32 fcrc = new CRC32();
        fcrc.update(footer, 4, 6);
        int c = (int) fcrc.getValue();
        footer[0] = (byte) c;
        footer[1] = (byte) (c >>> 8);
        footer[2] = (byte) (c >>> 16);
        footer[3] = (byte) (c >>> 24);
        footer[10] = FOOTER_MAGIC[0];
        footer[11] = FOOTER_MAGIC[1];
        out.write(footer);
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    private static void putLe32(ByteArrayOutputStream o, int v) {
        o.write(v);
        o.write(v >>> 8);
        o.write(v >>> 16);
        o.write(v >>> 24);
    }

    private static long varint(byte[] b, int[] pos) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("XZ for Java wrote an overlong number in its index");
    }

    private static void putVarint(ByteArrayOutputStream o, long v) {
        while (v >= 0x80) {
            o.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        o.write((int) v);
    }
}
