package io.lethe.cli;

import io.lethe.capture.source.CheckResult;
import io.lethe.cli.doctor.Doctor;

import io.lethe.config.LetheConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe doctor}: checks database, Kafka and every Redis, and says how to fix what is wrong. */
@Command(name = "doctor", mixinStandardHelpOptions = true, description = "Check PostgreSQL, Kafka and every region's Redis, and that every hop to another host is encrypted and "
        + "verified; print PASS/WARN/FAIL with the fix. Exit 1 on any FAIL (with --strict, on any WARN too).")
public final class DoctorCommand implements Callable<Integer> {
    @Mixin
    ConfigFile config;

    @Option(names = "--strict", description = "Exit 1 on warnings too (a plaintext or unverified hop, a DLQ kept too long): "
            + "a gate for deployment pipelines")
    boolean strict;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        List<CheckResult> results = new Doctor(cfg).run();
        for (CheckResult r : results) {
            out.printf("%-4s  %-24s %s%n", r.status(), r.check(), r.message());
            if (!r.fix().isEmpty()) {
                out.printf("      %-24s fix: %s%n", "", r.fix());
            }
        }
        long failed = results.stream().filter(r -> r.status() == CheckResult.Status.FAIL).count();
        long warned = results.stream().filter(r -> r.status() == CheckResult.Status.WARN).count();
        out.printf("%n%d checks: %d failed, %d warnings%n", results.size(), failed, warned);
        out.flush();
        return failed > 0 || (strict && warned > 0) ? 1 : 0;
    }
}
