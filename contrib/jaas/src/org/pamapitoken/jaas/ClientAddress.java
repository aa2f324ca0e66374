package org.pamapitoken.jaas;

/**
 * The address of the HTTP client whose request is being authenticated on
 * this thread. {@link ClientAddressValve} sets it before Tomcat's
 * authenticator runs and clears it afterwards; {@link PamLoginModule} reads
 * it and hands it to PAM as {@code PAM_RHOST}, because JAAS itself has no
 * way to pass it.
 *
 * <p>The value is the bare address: brackets around an IPv6 literal and an
 * IPv6 zone id ({@code %eth0}) are removed. Tomcat writes IPv6 in full
 * ({@code 0:0:0:0:0:0:0:1}); pam_apitoken parses that form as it is.
 */
public final class ClientAddress {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private ClientAddress() {
    }

    /** The client address for this thread, or null if none was set. */
    public static String get() {
        return CURRENT.get();
    }

    /**
     * Set the client address for this thread (null or blank clears it).
     *
     * @return the previous value, for {@link #restore(String)}
     */
    public static String set(String address) {
        String previous = CURRENT.get();
        String a = normalise(address);
        if (a == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(a);
        }
        return previous;
    }

    /** Put back a value returned by {@link #set(String)}. */
    public static void restore(String previous) {
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** Remove the address from this thread. */
    public static void clear() {
        CURRENT.remove();
    }

    /**
     * "[fe80::1%eth0]" becomes "fe80::1"; anything else is only trimmed.
     * Garbage is passed on as it is: the PAM module refuses an rhost it
     * cannot parse when a rule needs one (fail closed), and it must see
     * that garbage to do so.
     */
    static String normalise(String address) {
        if (address == null) {
            return null;
        }
        String a = address.trim();
        if (a.length() >= 2 && a.charAt(0) == '[' && a.charAt(a.length() - 1) == ']') {
            a = a.substring(1, a.length() - 1);
        }
        int zone = a.indexOf('%');
        if (zone > 0 && a.indexOf(':') >= 0) {
            a = a.substring(0, zone);
        }
        return a.isEmpty() ? null : a;
    }
}
