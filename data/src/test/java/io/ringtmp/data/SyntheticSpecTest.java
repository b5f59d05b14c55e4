package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SyntheticSpecTest {
    private static void assertMessageContains(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void parse_teacherWithKeys_usesThemAndDefaultsTheRest() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:teacher?n=600&inputs=20&classes=4&seed=9");
        assertEquals(new SyntheticSpec(SyntheticSpec.Kind.TEACHER, 600, 100, 20, 64, 4, 1.0, 9), s);
        assertEquals("synthetic:teacher?n=600&test=100&inputs=20&hidden=64&classes=4&seed=9", s.toString());
    }

    @Test
    void parse_bareKind_allDefaults() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:blobs");
        assertEquals(new SyntheticSpec(SyntheticSpec.Kind.BLOBS, 10_000, 1666, 784, 64, 10, 1.0, 1), s);
        assertEquals("synthetic:blobs?n=10000&test=1666&inputs=784&classes=10&spread=1.0&seed=1", s.toString());
    }

    @Test
    void parse_canonicalString_roundTrips() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:blobs?spread=2.5&classes=3&n=50&test=7&inputs=2&seed=-4");
        assertEquals(s, SyntheticSpec.parse(s.toString()));
    }

    @Test
    void generate_sizesAndNames_followSpec() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:teacher?n=120&test=30&inputs=8&hidden=6&classes=3&seed=2");
        TrainTest tt = s.generate();
        assertEquals(120, tt.train().size());
        assertEquals(30, tt.test().size());
        assertEquals(8, tt.train().featureSize());
        assertEquals(3, tt.test().numClasses());
        assertEquals(s + "/train", tt.train().name());
        assertArrayEquals(Synthetic.teacher(2, 120, 8, 6, 3).labels(), tt.train().labels());
    }

    @Test
    void parse_unknownKey_errorNamesKeyAndAllowedOnes() {
        DataException e = assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:blobs?n=10&hidden=5"));
        assertMessageContains(e, "'hidden'", "blobs", "n, test, inputs, classes, spread, seed");
    }

    @Test
    void parse_unknownKind_errorNamesKindsAllowed() {
        DataException e = assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:spirals?n=10"));
        assertMessageContains(e, "'spirals'", "teacher or blobs");
    }

    @Test
    void parse_badValues_errorsNameKeyAndValue() {
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:teacher?n=ten")),
                "n=ten", "not an integer");
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:teacher?classes=1")),
                "classes=1", "at least 2");
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:blobs?spread=-1")),
                "spread=-1");
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:teacher?n=5&n=6")),
                "'n' given twice");
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("synthetic:teacher?n")),
                "'n' is not key=value");
        assertMessageContains(assertThrows(DataException.class, () -> SyntheticSpec.parse("mnist")),
                "'mnist'", "synthetic:");
    }
}
