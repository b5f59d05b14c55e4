package io.ringtmp.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The dependency rules of STYLE.md, checked on the compiled classes of every module (Maven's
 * module graph checks the rest): arrows point toward tensor, nobody imports another module's
 * internal package, and there are no cycles between modules.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.ringtmp");

    @Test
    void tensor_importsNothingOfOurs() {
        noClasses().that().resideInAPackage("io.ringtmp.tensor..")
                .should().dependOnClassesThat().resideOutsideOfPackages("io.ringtmp.tensor..", "java..", "dev.ludovic.netlib..", "jdk.incubator.vector..")
                .check(CLASSES);
    }

    @Test
    void nn_and_data_dependOnlyOnTensor() {
        noClasses().that().resideInAnyPackage("io.ringtmp.nn..", "io.ringtmp.data..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.train..", "io.ringtmp.cli..", "io.ringtmp.testing..")
                .check(CLASSES);
        noClasses().that().resideInAPackage("io.ringtmp.nn..")
                .should().dependOnClassesThat().resideInAPackage("io.ringtmp.data..").check(CLASSES);
        noClasses().that().resideInAPackage("io.ringtmp.data..")
                .should().dependOnClassesThat().resideInAPackage("io.ringtmp.nn..").check(CLASSES);
    }

    @Test
    void train_doesNotDependOnTheCli() {
        noClasses().that().resideInAPackage("io.ringtmp.train..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.cli..", "io.ringtmp.testing..").check(CLASSES);
    }

    @Test
    void transport_movesTensorsNotLayers() {
        noClasses().that().resideInAPackage("io.ringtmp.transport..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.nn..", "io.ringtmp.data..", "io.ringtmp.train..",
                        "io.ringtmp.node..", "io.ringtmp.launch..", "io.ringtmp.cli..", "io.ringtmp.ring..", "io.ringtmp.ps..")
                .check(CLASSES);
    }

    @Test
    void node_and_launch_stayBelowTheModesAndTheCli() {
        noClasses().that().resideInAPackage("io.ringtmp.node..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.launch..", "io.ringtmp.cli..", "io.ringtmp.ring..", "io.ringtmp.ps..")
                .check(CLASSES);
        noClasses().that().resideInAPackage("io.ringtmp.launch..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.cli..", "io.ringtmp.ring..", "io.ringtmp.ps..")
                .check(CLASSES);
    }

    @Test
    void ring_and_ps_areSiblingsThatNeverImportEachOther() {
        noClasses().that().resideInAPackage("io.ringtmp.ring..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.ps..", "io.ringtmp.launch..", "io.ringtmp.cli..")
                .check(CLASSES);
        noClasses().that().resideInAPackage("io.ringtmp.ps..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp.ring..", "io.ringtmp.launch..", "io.ringtmp.cli..")
                .check(CLASSES);
    }

    @Test
    void nobodyImportsAnotherModulesInternals() {
        for (String module : new String[]{"tensor", "nn", "data", "train", "transport", "node", "launch", "ring", "ps", "cli"}) {
            noClasses().that().resideOutsideOfPackage("io.ringtmp." + module + "..")
                    .should().dependOnClassesThat().resideInAPackage("io.ringtmp." + module + ".internal..")
                    .check(CLASSES);
        }
    }

    @Test
    void modulesHaveNoCycles() {
        slices().matching("io.ringtmp.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void experiments_useThePublicApiOnly() {
        noClasses().that().resideInAPackage("io.ringtmp.experiments..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ringtmp..internal..", "io.ringtmp.cli..", "io.ringtmp.testing..")
                .check(CLASSES);
    }
}
