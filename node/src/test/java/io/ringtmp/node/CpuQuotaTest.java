package io.ringtmp.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuQuotaTest {
    @TempDir
    Path dir;

    private OptionalDouble read(String cgroup, String mountinfo) throws Exception {
        Path c = Files.writeString(dir.resolve("cgroup"), cgroup);
        Path m = Files.writeString(dir.resolve("mountinfo"), mountinfo.replace("MNT", dir.toString()));
        return CpuQuota.read(c, m);
    }

    @Test
    void v1_quotaOverPeriod_ofTheProcessesGroup() throws Exception {
        Path g = Files.createDirectories(dir.resolve("cpu/rtmp-abc/node-1"));
        Files.writeString(g.resolve("cpu.cfs_quota_us"), "50000\n");
        Files.writeString(g.resolve("cpu.cfs_period_us"), "100000\n");
        OptionalDouble s = read("4:memory:/x\n1:cpu:/rtmp-abc/node-1\n0::/\n",
                "30 25 0:27 / MNT/cpu rw,relatime shared:10 - cgroup cgroup rw,cpu\n"
                        + "31 25 0:28 / MNT/memory rw,relatime - cgroup cgroup rw,memory\n");
        assertEquals(0.5, s.orElseThrow(), 1e-12);
    }

    @Test
    void v1_noQuota_isEmpty() throws Exception {
        Path g = Files.createDirectories(dir.resolve("cpu"));
        Files.writeString(g.resolve("cpu.cfs_quota_us"), "-1\n");
        Files.writeString(g.resolve("cpu.cfs_period_us"), "100000\n");
        assertTrue(read("1:cpu,cpuacct:/\n", "30 25 0:27 / MNT/cpu rw - cgroup cgroup rw,cpu,cpuacct\n").isEmpty());
    }

    @Test
    void v2_cpuMax_withAMountRootInsideTheHierarchy() throws Exception {
        Path g = Files.createDirectories(dir.resolve("unified/job"));
        Files.writeString(g.resolve("cpu.max"), "150000 100000\n");
        OptionalDouble s = read("0::/container/job\n", "40 1 0:30 /container MNT/unified rw - cgroup2 cgroup2 rw\n");
        assertEquals(1.5, s.orElseThrow(), 1e-12);
        Files.writeString(g.resolve("cpu.max"), "max 100000\n");
        assertTrue(read("0::/container/job\n", "40 1 0:30 /container MNT/unified rw - cgroup2 cgroup2 rw\n").isEmpty());
    }

    @Test
    void unreadableOrGarbled_isEmpty() throws Exception {
        assertTrue(CpuQuota.read(dir.resolve("missing"), dir.resolve("missing2")).isEmpty());
        assertTrue(read("garbage\n1:cpu\n", "nonsense line\n").isEmpty());
    }
}
