package io.ringtmp.launch;

import io.ringtmp.launch.internal.Shell;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmulationConfigTest {
    @Test
    void constructor_outOfRangeValues_rejectedNamingTheParameter() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(0, 0, 0, 0)).getMessage().startsWith("nodes"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, -1, 0, 0)).getMessage().startsWith("link-mbit"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, Double.NaN, 0, 0)).getMessage().startsWith("link-mbit"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, 0, 0.05, 0)).getMessage().startsWith("node-cpu"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, 0, Double.POSITIVE_INFINITY, 0)).getMessage().startsWith("node-cpu"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, 0, 0, 1 << 20)).getMessage().startsWith("node-mem"));
    }

    @Test
    void derivedValues_matchTheDocumentedFormulas() {
        EmulationConfig c = new EmulationConfig(4, 40, 0.25, 512L << 20);
        assertEquals(40_000_000L, c.linkBitsPerSecond());
        assertEquals(20_000, c.linkBurstBytes());
        assertEquals(2_500, c.cpuQuotaUs(3));
        assertEquals((512L << 20) + (128L << 20) + (192L << 20), c.memoryLimitBytes());
        assertEquals(List.of("-Xmx536870912", "-XX:MaxDirectMemorySize=134217728", "-XX:ActiveProcessorCount=1", "-Dringtmp.cpuQuota=0.25"), c.jvmOptions(0));
        assertEquals(2 * 1514, new EmulationConfig(1, 1, 0, 0).linkBurstBytes(), "slow links still fit two frames");
        assertEquals(List.of(), EmulationConfig.uncapped(3).jvmOptions(2));
        assertEquals(0, EmulationConfig.uncapped(3).memoryLimitBytes());
    }

    @Test
    void nodeCpu_perNode_eachNodeItsQuota() {
        EmulationConfig c = new EmulationConfig(3, 0, List.of(0.25, 0.5, 1.0), 0);
        assertEquals(List.of(2_500L, 5_000L, 10_000L), List.of(c.cpuQuotaUs(0), c.cpuQuotaUs(1), c.cpuQuotaUs(2)));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-Dringtmp.cpuQuota=0.25"), c.jvmOptions(0));
        assertEquals("0.25,0.5,1", c.describeCpu());
        EmulationConfig same = new EmulationConfig(3, 0, 0.5, 0);
        assertEquals(List.of(0.5, 0.5, 0.5), same.nodeCpu());
        assertEquals("0.5", same.describeCpu());
        assertTrue(EmulationConfig.capsCpu(List.of(0.25)) && !EmulationConfig.capsCpu(List.of(0.0)) && !EmulationConfig.capsCpu(List.of(0.0, 0.0)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(3, 0, List.of(0.5, 0.5), 0))
                .getMessage().contains("one value for every node or one per node (3), got 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, 0, List.of(0.5, 0.0), 0))
                .getMessage().startsWith("node-cpu caps every node or none"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EmulationConfig(2, 0, List.of(0.5, 0.01), 0))
                .getMessage().startsWith("node-cpu must be"));
    }

    @Test
    void parseBytes_suffixes_binaryUnits() {
        assertEquals(512L << 20, EmulationConfig.parseBytes("512m"));
        assertEquals(2L << 30, EmulationConfig.parseBytes("2G"));
        assertEquals(1000, EmulationConfig.parseBytes("1000"));
        assertThrows(IllegalArgumentException.class, () -> EmulationConfig.parseBytes("1.5g"));
        assertThrows(IllegalArgumentException.class, () -> EmulationConfig.parseBytes(""));
        assertThrows(IllegalArgumentException.class, () -> EmulationConfig.parseBytes("99999999999t"));
    }

    @Test
    void quote_anyString_isOneShellWord() {
        for (String s : List.of("plain", "a b", "it's", "$(id)", "'", "")) {
            Shell.Result r = Shell.run(List.of("/bin/sh", "-c", "printf %s " + Shell.quote(s)));
            assertEquals(s, r.output());
        }
    }
}
