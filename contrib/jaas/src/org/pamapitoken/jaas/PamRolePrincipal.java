package org.pamapitoken.jaas;

import java.io.Serializable;
import java.security.Principal;

/**
 * A role granted to every user PAM lets in through this login module (the
 * {@code roles} option; JAASRealm roleClassNames).
 */
public final class PamRolePrincipal implements Principal, Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;

    public PamRolePrincipal(String name) {
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
        return o instanceof PamRolePrincipal && ((PamRolePrincipal) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode() ^ 0x5a5a5a5a;
    }

    @Override
    public String toString() {
        return "PamRolePrincipal[" + name + "]";
    }
}
