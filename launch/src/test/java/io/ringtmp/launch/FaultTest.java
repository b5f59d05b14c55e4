package io.ringtmp.launch;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultTest {
    @Test
    void parse_killStopAndCut_readNodesAndTimes() {
        assertEquals(new Fault(Fault.Kind.KILL, 2, -1, 20_000, 0), Fault.parse("kill:2@20s", 4, new Random(1)));
        assertEquals(new Fault(Fault.Kind.STOP, 1, -1, 15_000, 10_000), Fault.parse("stop:1@15s+10s", 4, new Random(1)));
        assertEquals(new Fault(Fault.Kind.CUT, 1, 2, 1_500, 500), Fault.parse("cut:1-2@1.5s+500ms", 4, new Random(1)));
        assertEquals("cut:1-2@1500ms+500ms", Fault.parse("cut:1-2@1.5s+500ms", 4, new Random(1)).toString());
        assertEquals("stop:1@15s+10s", Fault.parse("stop:1@15s+10s", 4, new Random(1)).toString());
    }

    @Test
    void parse_random_drawsTheSameNodeAndTimeForTheSameSeed() {
        Fault a = Fault.parse("kill:random", 4, new Random(7)), b = Fault.parse("kill:random", 4, new Random(7));
        assertEquals(a, b);
        assertTrue(a.node() >= 0 && a.node() < 4);
        assertTrue(a.atMs() >= Fault.RANDOM_FROM_MS && a.atMs() <= Fault.RANDOM_TO_MS, a.toString());
        Fault c = Fault.parse("cut:random@5s+2s", 4, new Random(3));
        assertEquals((c.node() + 1) % 4, c.peer(), "a random cut takes a ring link");
        assertEquals(5_000, c.atMs());
        boolean differs = false;
        for (int seed = 0; seed < 20 && !differs; seed++) {
            differs = !Fault.parse("kill:random", 4, new Random(seed)).equals(a);
        }
        assertTrue(differs, "the seed decides");
    }

    @Test
    void parse_aKillWithADuration_restartsTheNodeThen() {
        Fault f = Fault.parse("kill:1@2s+3s", 4, new Random(1));
        assertEquals(new Fault(Fault.Kind.KILL, 1, -1, 2000, 3000), f);
        assertEquals("kill:1@2s+3s", f.toString());
    }

    @Test
    void parse_malformed_namesWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.parse("kill:9@1s", 4, new Random(1)))
                .getMessage().contains("node 9 is not in the cluster (nodes 0..3)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.parse("stop:1@15s", 4, new Random(1)))
                .getMessage().contains("say how long"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.parse("cut:1@2s+3s", 4, new Random(1)))
                .getMessage().contains("both ends"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.parse("kill:1", 4, new Random(1)))
                .getMessage().contains("say when"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.parse("explode:1@2s", 4, new Random(1)))
                .getMessage().contains("expected kill:NODE"));
    }
}
