package io.lethe.embedded.junit;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheStack;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the real servers: one {@link LetheStack} per test JVM, started lazily on first use
 * and stopped when the JVM's tests end, and a fresh {@link TestScope} per parameter request.
 *
 * <p>The backend is the embedded stack unless {@code -Dlethe.it.backend=testcontainers} selects
 * containers (which needs a Docker engine and the {@code testcontainers} Maven profile, activated
 * by the same property).
 */
public final class LetheStackExtension implements ParameterResolver {
    public static final String BACKEND_PROPERTY = "lethe.it.backend";
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LetheStackExtension.class);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == LetheStack.class || type == EmbeddedStack.class || type == TestScope.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        LetheStack stack = stack(context);
        if (type == TestScope.class) {
            String id = "t" + COUNTER.incrementAndGet() + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
            TestScope scope = TestScope.create(id.toLowerCase(Locale.ROOT));
            stack.createDatabase(scope.database());
            return scope;
        }
        if (type == EmbeddedStack.class && !(stack instanceof EmbeddedStack)) {
            throw new ParameterResolutionException("this test needs the embedded backend (it injects faults the "
                    + "container backend cannot); run it without -D" + BACKEND_PROPERTY);
        }
        return stack;
    }

    /** The JVM-wide stack, started on first use. */
    public static LetheStack stack(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("stack", k -> create(), LetheStack.class);
    }

    private static LetheStack create() {
        String backend = System.getProperty(BACKEND_PROPERTY, "embedded");
        if (backend.isBlank() || backend.equals("embedded")) {
            return EmbeddedStack.start();
        }
        if (backend.equals("testcontainers")) {
            try {
                return (LetheStack) Class.forName("io.lethe.embedded.testcontainers.ContainerStack")
                        .getMethod("start").invoke(null);
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=testcontainers needs Testcontainers on the "
                        + "test classpath (the testcontainers profile) and a Docker engine: " + e, e);
            }
        }
        throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + " must be embedded or testcontainers, was '" + backend + "'");
    }
}
