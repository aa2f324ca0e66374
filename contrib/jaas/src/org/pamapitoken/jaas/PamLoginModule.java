package org.pamapitoken.jaas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

/**
 * A JAAS login module that asks a Linux-PAM service (for example one that
 * stacks pam_apitoken) whether a user name and password -- or API token --
 * may log in.
 *
 * <p>Options (jaas.config):
 * <ul>
 * <li>{@code service} (required): the PAM service name, i.e. the file in
 * /etc/pam.d to use;</li>
 * <li>{@code roles}: role names, separated by commas or spaces, given to
 * every user PAM lets in (as {@link PamRolePrincipal}s);</li>
 * <li>{@code requireClientAddress} (default {@code true}): refuse a login
 * for which {@link ClientAddressValve} has set no client address, rather
 * than run PAM without {@code PAM_RHOST} (where a host rule such as
 * {@code local} could match a remote client);</li>
 * <li>{@code debug}: log every decision at INFO.</li>
 * </ul>
 *
 * <p>Each login is one PAM transaction: pam_start, pam_set_item(PAM_RHOST),
 * pam_authenticate(PAM_SILENT|PAM_DISALLOW_NULL_AUTHTOK), pam_acct_mgmt,
 * pam_end. JAAS makes a new instance of this class per login, and Tomcat
 * logs users in from many threads at once; nothing here is shared but the
 * stateless PAM binding.
 */
public final class PamLoginModule implements LoginModule {
    private static final Logger LOG = Logger.getLogger(PamLoginModule.class.getName());
    /** Longer names are not user names (and Linux caps them at 32). */
    private static final int MAX_USER = 256;
    /** Longer passwords are neither tokens nor passwords anyone types. */
    private static final int MAX_PASSWORD = 4096;

    private Subject subject;
    private CallbackHandler handler;
    private String service;
    private List<String> roles = Collections.emptyList();
    private boolean requireClientAddress = true;
    private boolean debug;

    private String user;
    private boolean succeeded;
    private boolean committed;
    private PamUserPrincipal userPrincipal;
    private final List<PamRolePrincipal> rolePrincipals = new ArrayList<>();

    @Override
    public void initialize(Subject subject, CallbackHandler callbackHandler,
            Map<String, ?> sharedState, Map<String, ?> options) {
        this.subject = subject;
        this.handler = callbackHandler;
        Object s = options.get("service");
        this.service = s == null ? null : s.toString().trim();
        Object r = options.get("roles");
        if (r != null) {
            List<String> list = new ArrayList<>();
            for (String role : r.toString().split("[,\\s]+")) {
                if (!role.isEmpty()) {
                    list.add(role);
                }
            }
            this.roles = Collections.unmodifiableList(list);
        }
        Object req = options.get("requireClientAddress");
        if (req != null) {
            this.requireClientAddress = !"false".equalsIgnoreCase(req.toString().trim());
        }
        Object d = options.get("debug");
        this.debug = d != null && "true".equalsIgnoreCase(d.toString().trim());
    }

    @Override
    public boolean login() throws LoginException {
        succeeded = false;
        if (service == null || service.isEmpty() || service.indexOf('/') >= 0
                || service.indexOf('\0') >= 0) {
            LOG.severe("PamLoginModule: option service must name a PAM service (a file in /etc/pam.d)");
            throw new LoginException("PamLoginModule is misconfigured");
        }
        if (handler == null) {
            throw new LoginException("PamLoginModule: no CallbackHandler");
        }
        NameCallback nc = new NameCallback("login: ");
        PasswordCallback pc = new PasswordCallback("password: ", false);
        try {
            handler.handle(new Callback[] { nc, pc });
        } catch (IOException | UnsupportedCallbackException e) {
            pc.clearPassword();
            LoginException le = new LoginException("PamLoginModule: cannot get the credentials");
            le.initCause(e);
            throw le;
        }
        String name = nc.getName();
        char[] password = pc.getPassword();
        pc.clearPassword();
        byte[] secret = null;
        try {
            if (name == null || name.isEmpty() || name.length() > MAX_USER
                    || name.indexOf('\0') >= 0) {
                throw fail(name, "bad user name");
            }
            if (password == null || password.length == 0) {
                throw fail(name, "empty password");
            }
            if (password.length > MAX_PASSWORD) {
                throw fail(name, "password too long");
            }
            secret = utf8(password);
            if (secret == null) {
                throw fail(name, "password is not valid UTF-16 text or contains NUL");
            }
            String rhost = ClientAddress.get();
            if (rhost == null && requireClientAddress) {
                LOG.warning("PamLoginModule: no client address for user " + name
                        + " -- is ClientAddressValve configured (server.xml Engine"
                        + " or Host, or the application's context.xml)? Login refused.");
                throw new FailedLoginException("Login failed");
            }
            Pam.Result result;
            // Tomcat calls us with the web application's class loader as
            // the context loader; a thread JNA starts on first use (its
            // Cleaner) would inherit it and pin the application in memory.
            Thread thread = Thread.currentThread();
            ClassLoader tccl = thread.getContextClassLoader();
            thread.setContextClassLoader(PamLoginModule.class.getClassLoader());
            try {
                result = Pam.authenticate(service, name, secret, rhost);
            } catch (LinkageError e) {
                // libpam, libc or JNA itself missing.
                LOG.log(Level.SEVERE, "PamLoginModule: cannot use libpam through JNA", e);
                LoginException le = new LoginException("PAM is unavailable");
                le.initCause(e);
                throw le;
            } finally {
                thread.setContextClassLoader(tccl);
            }
            if (!result.ok()) {
                Level level = isTrouble(result.code) ? Level.WARNING : (debug ? Level.INFO : Level.FINE);
                if (LOG.isLoggable(level)) {
                    LOG.log(level, "PAM service " + service + " refused user " + name
                            + " from " + rhost + ": " + result);
                }
                throw new FailedLoginException("Login failed");
            }
            if (debug) {
                LOG.info("PAM service " + service + " accepted user " + name + " from " + rhost);
            }
            user = name;
            succeeded = true;
            return true;
        } finally {
            if (password != null) {
                Arrays.fill(password, '\0');
            }
            if (secret != null) {
                Arrays.fill(secret, (byte) 0);
            }
        }
    }

    /**
     * PAM codes that mean something is wrong with the setup, not the user.
     * (PAM_PERM_DENIED is not one: a tokens-only stack returns it for every
     * plain password, because pam_apitoken ignores those.)
     */
    private static boolean isTrouble(int code) {
        switch (code) {
        case 3:  // PAM_SERVICE_ERR
        case 4:  // PAM_SYSTEM_ERR
        case 5:  // PAM_BUF_ERR
        case 9:  // PAM_AUTHINFO_UNAVAIL (store or key unreadable)
        case 19: // PAM_CONV_ERR
        case 26: // PAM_SYMBOL_ERR
        case 28: // PAM_ABORT
            return true;
        default:
            return false;
        }
    }

    private FailedLoginException fail(String name, String why) {
        if (debug) {
            LOG.info("PamLoginModule: login refused for " + name + ": " + why);
        }
        return new FailedLoginException("Login failed");
    }

    /**
     * UTF-8 of the password, encoded straight into one buffer we wipe (a
     * String copy could not be). Null if it has a NUL or lone surrogate.
     */
    private static byte[] utf8(char[] password) {
        for (char c : password) {
            if (c == '\0') {
                return null;
            }
        }
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        // At most 3 bytes per UTF-16 unit (a surrogate pair makes 4 from 2).
        byte[] buf = new byte[password.length * 3];
        ByteBuffer out = ByteBuffer.wrap(buf);
        try {
            CoderResult cr = enc.encode(CharBuffer.wrap(password), out, true);
            if (cr.isError() || cr.isOverflow()) {
                return null;
            }
            cr = enc.flush(out);
            if (cr.isError() || cr.isOverflow()) {
                return null;
            }
            return Arrays.copyOf(buf, out.position());
        } finally {
            Arrays.fill(buf, (byte) 0);
        }
    }

    @Override
    public boolean commit() throws LoginException {
        if (!succeeded) {
            clear();
            return false;
        }
        if (subject.isReadOnly()) {
            clear();
            throw new LoginException("PamLoginModule: subject is read-only");
        }
        userPrincipal = new PamUserPrincipal(user);
        subject.getPrincipals().add(userPrincipal);
        for (String role : roles) {
            PamRolePrincipal p = new PamRolePrincipal(role);
            if (subject.getPrincipals().add(p)) {
                rolePrincipals.add(p);
            }
        }
        committed = true;
        return true;
    }

    @Override
    public boolean abort() throws LoginException {
        if (!succeeded) {
            return false;
        }
        if (committed) {
            logout();
        } else {
            clear();
        }
        return true;
    }

    @Override
    public boolean logout() throws LoginException {
        if (subject != null && !subject.isReadOnly()) {
            if (userPrincipal != null) {
                subject.getPrincipals().remove(userPrincipal);
            }
            subject.getPrincipals().removeAll(rolePrincipals);
        }
        clear();
        return true;
    }

    private void clear() {
        succeeded = false;
        committed = false;
        user = null;
        userPrincipal = null;
        rolePrincipals.clear();
    }
}
