package io.lethe.cli;

import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code -c/--config <lethe.yml>} option every command that talks to the servers takes
 * ({@code @Mixin ConfigFile config}), and its loading: a file that does not load is printed as
 * {@link ConfigException}'s message (each bad setting with its path) on the command's error
 * stream, and the command exits {@link #INVALID}.
 */
public final class ConfigFile {
    /** The exit code of a command whose config does not load. */
    public static final int INVALID = 2;

    @Option(names = {"-c", "--config"}, required = true, description = "lethe.yml")
    Path path;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The file given. */
    public Path path() {
        return path;
    }

    /** The config, or null once its errors are printed (the command then returns {@link #INVALID}). */
    public LetheConfig loadOrReport() {
        try {
            return ConfigLoader.load(path);
        } catch (ConfigException e) {
            mixee.commandLine().getErr().println(e.getMessage());
            return null;
        }
    }
}
