package org.pamapitoken.jaas;

import java.io.Serializable;
import java.security.Principal;

/** The user name that PAM authenticated (JAASRealm userClassNames). */
public final class PamUserPrincipal implements Principal, Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;

    public PamUserPrincipal(String name) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PamUserPrincipal && ((PamUserPrincipal) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return "PamUserPrincipal[" + name + "]";
    }
}
