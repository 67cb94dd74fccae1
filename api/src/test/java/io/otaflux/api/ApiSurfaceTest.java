package io.otaflux.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The public API a user writes against, per library module, is the committed listing {@code api/<module>.txt}:
 * every public type of a package that is not {@code internal}, and its public (and, where it can be extended,
 * protected) constructors, methods and fields, as reflection prints them. An addition or a removal fails here
 * until the listing says so, so the surface grows only on purpose and its size is counted the same way each
 * time (the counts head each file).
 */
class ApiSurfaceTest {

  /** Each library module, named by one of its classes (the test finds the module's classes next to it). */
  static final Map<String, String> MODULES = new TreeMap<>(Map.of(
      "core", "io.otaflux.OtaUpdater",
      "transport", "io.otaflux.transport.HttpsFirmwareSource",
      "storage", "io.otaflux.storage.FileSlotStore",
      "lwm2m", "io.otaflux.lwm2m.Lwm2mAgent",
      "hawkbit", "io.otaflux.hawkbit.HawkbitClient",
      "ui-bindings", "io.otaflux.ui.WebStatusPage",
      "testkit", "io.otaflux.testkit.InMemorySlotStore"));

  static Stream<String> modules() {
    return MODULES.keySet().stream();
  }

  @ParameterizedTest
  @MethodSource("modules")
  void thePublicApiIsTheCommittedListing(String module) throws Exception {
    List<String> actual = listing(classesOf(module));
    Path file = Path.of(module + ".txt");
    if (Boolean.getBoolean("api.update")) {
      Files.write(file, actual, StandardCharsets.UTF_8);
    }
    List<String> expected = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    assertThat(difference(expected, actual))
        .as("The public API of %s is not api/%s.txt. If the change is intended, keep the surface small "
            + "(STYLE.md: package-private, or an internal package for what users do not write against) and update "
            + "the listing: mvn -B -o -pl api -am verify -Dsurefire.failIfNoSpecifiedTests=false -Dtest=ApiSurfaceTest "
            + "-Dapi.update=true, then commit api/%s.txt", module, module, module)
        .isEmpty();
  }

  @Test
  void anAddedOrRemovedMemberIsADifferenceAndSoIsAStaleCount() {
    List<String> committed = List.of("# 1 public types", "public final class a.A", "    public void a.A.b()");
    assertThat(difference(committed, committed)).isEmpty();
    assertThat(difference(committed, List.of("# 1 public types", "public final class a.A", "    public void a.A.c()")))
        .isEqualTo("+ public void a.A.c()\n- public void a.A.b()\n");
    assertThat(difference(committed, List.of("# 2 public types", "public final class a.A", "    public void a.A.b()")))
        .isEqualTo("(the same lines, another order or count line)");
  }

  /** What {@code actual} adds (+) and removes (-) from {@code expected}; empty when they are the same. */
  static String difference(List<String> expected, List<String> actual) {
    Set<String> added = new TreeSet<>(withoutComments(actual));
    withoutComments(expected).forEach(added::remove);
    Set<String> removed = new TreeSet<>(withoutComments(expected));
    withoutComments(actual).forEach(removed::remove);
    if (added.isEmpty() && removed.isEmpty()) {
      return actual.equals(expected) ? "" : "(the same lines, another order or count line)";
    }
    return prefixed("+ ", added) + prefixed("- ", removed);
  }

  @ParameterizedTest
  @MethodSource("modules")
  void noPublicSignatureExposesAnInternalOrNonPublicType(String module) throws Exception {
    assertThat(leaks(classesOf(module)))
        .as("Public signatures of %s must use only public, non-internal types", module).isEmpty();
  }

  @Test
  void aPublicSignatureNamingAnInternalOrPackagePrivateTypeIsALeak() {
    assertThat(leaks(List.of(Leaky.class, Leaky.Hidden.class))).containsExactly(
        "io.otaflux.api.Leaky exposes io.otaflux.api.Leaky$Hidden",
        "io.otaflux.api.Leaky exposes io.otaflux.internal.Origin");
  }

  @Test
  void theListingHasThePublicMembersOnlyAndCountsThem() {
    assertThat(listing(List.of(Leaky.class, Leaky.Hidden.class))).containsExactly(
        "# 1 public types (1 top-level), 3 public members; written by ApiSurfaceTest with -Dapi.update=true",
        "public class io.otaflux.api.Leaky",
        "    public io.otaflux.api.Leaky()",
        "    public java.util.List<io.otaflux.internal.Origin> io.otaflux.api.Leaky.origins()",
        "    public void io.otaflux.api.Leaky.hidden(io.otaflux.api.Leaky$Hidden)");
  }

  /** Each API type naming a type of ours that users cannot name, as "type exposes used". */
  static Set<String> leaks(List<Class<?>> classes) {
    Set<String> leaks = new TreeSet<>();
    for (Class<?> type : classes) {
      if (!isApi(type)) {
        continue;
      }
      List<Type> exposed = new ArrayList<>();
      if (type.getGenericSuperclass() != null) {
        exposed.add(type.getGenericSuperclass());
      }
      exposed.addAll(List.of(type.getGenericInterfaces()));
      exposed.addAll(List.of(type.getTypeParameters()));
      for (Member member : members(type)) {
        if (member instanceof Field field) {
          exposed.add(field.getGenericType());
        } else if (member instanceof Executable executable) {
          exposed.addAll(List.of(executable.getGenericParameterTypes()));
          exposed.addAll(List.of(executable.getGenericExceptionTypes()));
          exposed.addAll(List.of(executable.getTypeParameters()));
          if (executable instanceof Method method) {
            exposed.add(method.getGenericReturnType());
          }
        }
      }
      Set<Class<?>> seen = new HashSet<>();
      for (Type t : exposed) {
        collect(t, seen, new HashSet<>());
      }
      for (Class<?> used : seen) {
        if (used.getName().startsWith("io.otaflux.") && !isApi(used)) {
          leaks.add(type.getName() + " exposes " + used.getName());
        }
      }
    }
    return leaks;
  }

  static List<String> withoutComments(List<String> lines) {
    return lines.stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
  }

  static String prefixed(String prefix, Set<String> lines) {
    StringBuilder b = new StringBuilder();
    lines.forEach(l -> b.append(prefix).append(l.strip()).append('\n'));
    return b.toString();
  }

  /** The listing: a count line, then each API type followed by its members, indented, all sorted. */
  static List<String> listing(List<Class<?>> classes) {
    Map<String, List<String>> byType = new TreeMap<>();
    int topLevel = 0;
    int members = 0;
    for (Class<?> type : classes) {
      if (!isApi(type)) {
        continue;
      }
      if (type.getEnclosingClass() == null) {
        topLevel++;
      }
      List<String> lines = new ArrayList<>();
      lines.add(type.toGenericString());
      Set<String> memberLines = new TreeSet<>();
      for (Member member : members(type)) {
        memberLines.add("    " + signature(member));
      }
      members += memberLines.size();
      lines.addAll(memberLines);
      byType.put(type.getName(), lines);
    }
    List<String> out = new ArrayList<>();
    out.add("# " + byType.size() + " public types (" + topLevel + " top-level), " + members
        + " public members; written by ApiSurfaceTest with -Dapi.update=true");
    byType.values().forEach(out::addAll);
    return out;
  }

  static String signature(Member member) {
    if (member instanceof Field field) {
      return field.toGenericString();
    } else if (member instanceof Method method) {
      return method.toGenericString();
    }
    return ((Constructor<?>) member).toGenericString();
  }

  /** A type users can name: public, in a package that is not internal, inside public types only. */
  static boolean isApi(Class<?> type) {
    if (type.isAnonymousClass() || type.isLocalClass() || type.isSynthetic()) {
      return false;
    }
    for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
      if (!Modifier.isPublic(t.getModifiers())) {
        return false;
      }
    }
    String pkg = type.getPackageName();
    return !(pkg.endsWith(".internal") || pkg.contains(".internal."));
  }

  /** Declared members a user can reach: public ones, and protected ones where the type can be extended. */
  static List<Member> members(Class<?> type) {
    boolean extensible = !Modifier.isFinal(type.getModifiers()) && !type.isEnum() && !type.isRecord()
        && !type.isSealed() && !type.isInterface() && hasReachableConstructor(type);
    List<Member> out = new ArrayList<>();
    Set<Member> all = new LinkedHashSet<>();
    all.addAll(List.of(type.getDeclaredConstructors()));
    all.addAll(List.of(type.getDeclaredMethods()));
    all.addAll(List.of(type.getDeclaredFields()));
    for (Member m : all) {
      int mod = m.getModifiers();
      boolean synthetic = m.isSynthetic() || (m instanceof Method method && method.isBridge());
      if (!synthetic && !overridesObject(m) && (Modifier.isPublic(mod) || (extensible && Modifier.isProtected(mod)))) {
        out.add(m);
      }
    }
    return out;
  }

  /** {@code equals}, {@code hashCode} and {@code toString} add nothing to write against. */
  static boolean overridesObject(Member m) {
    if (!(m instanceof Method method)) {
      return false;
    }
    try {
      Object.class.getMethod(method.getName(), method.getParameterTypes());
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  static boolean hasReachableConstructor(Class<?> type) {
    for (Constructor<?> c : type.getDeclaredConstructors()) {
      if (Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers())) {
        return true;
      }
    }
    return false;
  }

  static void collect(Type type, Set<Class<?>> out, Set<Type> visiting) {
    if (!visiting.add(type)) {
      return;
    }
    if (type instanceof Class<?> c) {
      Class<?> base = c;
      while (base.isArray()) {
        base = base.getComponentType();
      }
      out.add(base);
    } else if (type instanceof ParameterizedType p) {
      collect(p.getRawType(), out, visiting);
      for (Type arg : p.getActualTypeArguments()) {
        collect(arg, out, visiting);
      }
    } else if (type instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        collect(b, out, visiting);
      }
      for (Type b : w.getLowerBounds()) {
        collect(b, out, visiting);
      }
    } else if (type instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        collect(b, out, visiting);
      }
    } else if (type instanceof GenericArrayType a) {
      collect(a.getGenericComponentType(), out, visiting);
    }
  }

  /** Every class of a module: the classes next to its anchor class, in its jar or its classes directory. */
  static List<Class<?>> classesOf(String module) throws IOException, URISyntaxException, ClassNotFoundException {
    Class<?> anchor = Class.forName(MODULES.get(module));
    Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> names = new ArrayList<>();
    if (Files.isDirectory(location)) {
      names.addAll(classNames(location));
    } else {
      try (FileSystem jar = FileSystems.newFileSystem(location)) {
        names.addAll(classNames(jar.getPath("/")));
      }
    }
    List<Class<?>> classes = new ArrayList<>();
    for (String name : new TreeSet<>(names)) {
      classes.add(Class.forName(name, false, anchor.getClassLoader()));
    }
    return classes;
  }

  static List<String> classNames(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.map(p -> root.relativize(p).toString())
          .filter(n -> n.endsWith(".class") && !n.endsWith("package-info.class") && !n.endsWith("module-info.class")
              && !n.startsWith("META-INF"))
          .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.').replace('\\', '.'))
          .toList();
    }
  }
}
