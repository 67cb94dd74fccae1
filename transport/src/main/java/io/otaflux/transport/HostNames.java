package io.otaflux.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

import org.jspecify.annotations.Nullable;

/**
 * Whether a certificate names a host, read from the certificate (RFC 6125 as the JDK's HTTPS check
 * applies it: DNS names with a wildcard only as the whole left-most label, IP addresses exactly,
 * the subject's CN only when there is no DNS name). Used to tell a name refusal from other chain
 * refusals without reading the JDK's exception text.
 */
final class HostNames {

  private static final int DNS = 2;
  private static final int IP = 7;

  private HostNames() {
  }

  static boolean matches(X509Certificate leaf, String host) {
    String wanted = host.toLowerCase(Locale.ROOT);
    if (wanted.startsWith("[") && wanted.endsWith("]")) {
      wanted = wanted.substring(1, wanted.length() - 1);
    }
    List<String> dns = new ArrayList<>();
    List<String> ips = new ArrayList<>();
    try {
      Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
      if (alt != null) {
        for (List<?> entry : alt) {
          if (Integer.valueOf(DNS).equals(entry.get(0))) {
            dns.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
          } else if (Integer.valueOf(IP).equals(entry.get(0))) {
            ips.add(String.valueOf(entry.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    if (isIpLiteral(wanted)) {
      for (String ip : ips) {
        if (sameAddress(ip, wanted)) {
          return true;
        }
      }
      return false;
    }
    if (dns.isEmpty()) {
      String cn = commonName(leaf);
      return cn != null && matchesName(cn.toLowerCase(Locale.ROOT), wanted);
    }
    for (String name : dns) {
      if (matchesName(name, wanted)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matchesName(String pattern, String host) {
    String p = stripDot(pattern);
    String h = stripDot(host);
    if (!p.startsWith("*.")) {
      return p.equals(h);
    }
    int dot = h.indexOf('.');
    return dot > 0 && h.substring(dot).equals(p.substring(1)) && p.indexOf('.', 2) > 0;
  }

  private static String stripDot(String name) {
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }

  private static boolean isIpLiteral(String host) {
    if (host.indexOf(':') >= 0) {
      return true;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    return !host.isEmpty();
  }

  private static boolean sameAddress(String a, String b) {
    try {
      // literals only: InetAddress.getByName does not resolve a literal
      return InetAddress.getByName(a).equals(InetAddress.getByName(b));
    } catch (UnknownHostException | SecurityException e) {
      return false;
    }
  }

  private static @Nullable String commonName(X509Certificate leaf) {
    try {
      String cn = null;
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType())) {
          cn = String.valueOf(rdn.getValue());
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }
}
