import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Build step of the ota command (run by the pom with Java's source launcher and ASM):
 * picocli's jar holds Java 5 class files. JDK 17 neither puts those into a class-data-sharing
 * archive nor checks them with the fast type-checking verifier, so every start of {@code ota}
 * loaded and verified its 170 picocli classes from the jar, the old way (a fifth of
 * {@code ota status}'s CPU, benchmarks/RESULTS.md). This writes the same classes as Java 8 class
 * files, with the stack map frames that version needs, into target/classes; the shade plugin
 * takes them from there instead of from picocli's jar. The code of every method is unchanged.
 *
 * <p>Usage: {@code java -cp asm.jar PicocliClassFiles PICOCLI.jar OUT_DIR}
 */
public final class PicocliClassFiles {

  private PicocliClassFiles() {
  }

  public static void main(String[] args) throws IOException {
    Path jar = Path.of(args[0]);
    Path out = Path.of(args[1]);
    int count = 0;
    try (JarFile in = new JarFile(jar.toFile());
        java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {jar.toUri().toURL()},
            PicocliClassFiles.class.getClassLoader())) {
      for (Enumeration<JarEntry> entries = in.entries(); entries.hasMoreElements();) {
        JarEntry entry = entries.nextElement();
        if (!entry.getName().endsWith(".class") || entry.getName().startsWith("META-INF/")) {
          continue;
        }
        byte[] bytes;
        try (InputStream stream = in.getInputStream(entry)) {
          bytes = stream.readAllBytes();
        }
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
          @Override
          protected ClassLoader getClassLoader() {
            return loader; // frames need the common superclass of picocli's own types
          }
        };
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9, writer) {
          @Override
          public void visit(int version, int access, String name, String signature, String superName,
              String[] interfaces) {
            super.visit(Math.max(version, Opcodes.V1_8), access, name, signature, superName, interfaces);
          }
        }, ClassReader.SKIP_FRAMES);
        Path target = out.resolve(entry.getName());
        Files.createDirectories(target.getParent());
        Files.write(target, writer.toByteArray());
        count++;
      }
    }
    System.out.println("picocli: " + count + " class files written as Java 8 class files into " + out);
  }
}
