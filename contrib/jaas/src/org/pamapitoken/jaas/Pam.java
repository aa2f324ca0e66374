package org.pamapitoken.jaas;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.sun.jna.Callback;
import com.sun.jna.CallbackReference;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * Linux-PAM through JNA: one PAM transaction per call to
 * {@link #authenticate}, safe to call from many threads at once (each call
 * has its own handle; the conversation function is shared and finds the
 * call's state through {@code appdata_ptr}).
 *
 * <p>libpam frees the conversation's replies with libc {@code free()}, so
 * they are allocated here with libc {@code malloc}/{@code calloc}, never
 * with JNA's {@code Memory} (which JNA would free a second time).
 */
final class Pam {
    // <security/_pam_types.h>
    static final int PAM_SUCCESS = 0;
    static final int PAM_BUF_ERR = 5;
    static final int PAM_CONV_ERR = 19;
    static final int PAM_RHOST = 4;
    static final int PAM_SILENT = 0x8000;
    static final int PAM_DISALLOW_NULL_AUTHTOK = 0x0001;
    static final int PAM_PROMPT_ECHO_OFF = 1;
    static final int PAM_PROMPT_ECHO_ON = 2;
    static final int PAM_ERROR_MSG = 3;
    static final int PAM_TEXT_INFO = 4;
    static final int PAM_MAX_NUM_MSG = 32;

    private static final Logger LOG = Logger.getLogger(Pam.class.getName());

    /** The libpam calls used here; byte[] strings are NUL-terminated UTF-8. */
    interface LibPam extends Library {
        int pam_start(byte[] service, byte[] user, Pointer conv, PointerByReference pamh);

        int pam_set_item(Pointer pamh, int itemType, byte[] item);

        int pam_authenticate(Pointer pamh, int flags);

        int pam_acct_mgmt(Pointer pamh, int flags);

        int pam_end(Pointer pamh, int status);

        String pam_strerror(Pointer pamh, int errnum);
    }

    /** libc's allocator: the one libpam frees conversation replies with. */
    interface LibC extends Library {
        Pointer malloc(NativeLong size);

        Pointer calloc(NativeLong nmemb, NativeLong size);

        void free(Pointer p);
    }

    /** int (*conv)(int, const struct pam_message **, struct pam_response **, void *) */
    interface ConvFunction extends Callback {
        int invoke(int numMsg, Pointer msg, Pointer resp, Pointer appdata);
    }

    /** Loaded on first use, so a missing libpam is a LoginException, not a class-init failure. */
    private static final class Libs {
        static final LibPam PAM = Native.load("libpam.so.0", LibPam.class);
        static final LibC C = Native.load("c", LibC.class);
        static final ConvFunction CONV = new Converse();
        /* The callback object above is strongly reachable for the life of
         * the class, so its native trampoline never goes away. */
        static final Pointer CONV_FP = CallbackReference.getFunctionPointer(CONV);
    }

    /** What one conversation needs: the password to answer prompts with. */
    private static final class Session {
        final byte[] password;       // UTF-8, no NUL; wiped by the caller
        final String user;

        Session(byte[] password, String user) {
            this.password = password;
            this.user = user;
        }
    }

    private static final Map<Long, Session> SESSIONS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);

    /** Outcome of one transaction: the step that decided it and PAM's code. */
    static final class Result {
        final String step;
        final int code;
        final String message;

        Result(String step, int code, String message) {
            this.step = step;
            this.code = code;
            this.message = message;
        }

        boolean ok() {
            return code == PAM_SUCCESS;
        }

        @Override
        public String toString() {
            return step + ": " + message + " (" + code + ")";
        }
    }

    private Pam() {
    }

    /**
     * pam_start, pam_set_item(PAM_RHOST), pam_authenticate, pam_acct_mgmt,
     * pam_end. {@code password} is used only while this runs; the caller
     * wipes it. {@code rhost} may be null (then PAM_RHOST is not set).
     */
    static Result authenticate(String service, String user, byte[] password, String rhost) {
        LibPam pam = Libs.PAM;
        LibC libc = Libs.C;
        long id = NEXT_ID.getAndIncrement();
        // struct pam_conv { conv; appdata_ptr; }: plain libc memory, freed
        // below (libpam keeps its own copy from pam_start on).
        Pointer conv = libc.calloc(new NativeLong(2), new NativeLong(Native.POINTER_SIZE));
        if (conv == null) {
            return new Result("calloc", PAM_BUF_ERR, "out of memory");
        }
        conv.setPointer(0, Libs.CONV_FP);
        conv.setPointer(Native.POINTER_SIZE, new Pointer(id));
        SESSIONS.put(id, new Session(password, user));

        PointerByReference ref = new PointerByReference();
        Pointer pamh = null;
        int status = PAM_SUCCESS;
        try {
            status = pam.pam_start(cString(service), cString(user), conv, ref);
            pamh = ref.getValue();
            if (status != PAM_SUCCESS || pamh == null) {
                if (status == PAM_SUCCESS) {
                    status = PAM_BUF_ERR;
                }
                return new Result("pam_start", status, pam.pam_strerror(null, status));
            }
            if (rhost != null) {
                status = pam.pam_set_item(pamh, PAM_RHOST, cString(rhost));
                if (status != PAM_SUCCESS) {
                    return new Result("pam_set_item(PAM_RHOST)", status, pam.pam_strerror(pamh, status));
                }
            }
            status = pam.pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
            if (status != PAM_SUCCESS) {
                return new Result("pam_authenticate", status, pam.pam_strerror(pamh, status));
            }
            status = pam.pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
            if (status != PAM_SUCCESS) {
                return new Result("pam_acct_mgmt", status, pam.pam_strerror(pamh, status));
            }
            return new Result("pam_acct_mgmt", PAM_SUCCESS, "Success");
        } finally {
            if (pamh != null) {
                pam.pam_end(pamh, status);
            }
            SESSIONS.remove(id);
            libc.free(conv);
        }
    }

    /** NUL-terminated UTF-8; the caller has made sure there is no NUL inside. */
    private static byte[] cString(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    /** The conversation function every transaction shares. */
    private static final class Converse implements ConvFunction {
        @Override
        public int invoke(int numMsg, Pointer msg, Pointer resp, Pointer appdata) {
            try {
                return converse(numMsg, msg, resp, appdata);
            } catch (Throwable t) {
                // Never let an exception cross into C.
                LOG.log(Level.WARNING, "PAM conversation failed", t);
                return PAM_CONV_ERR;
            }
        }
    }

    private static int converse(int numMsg, Pointer msg, Pointer resp, Pointer appdata) {
        if (numMsg <= 0 || numMsg > PAM_MAX_NUM_MSG || msg == null || resp == null
                || appdata == null) {
            return PAM_CONV_ERR;
        }
        resp.setPointer(0, null);
        Session session = SESSIONS.get(Pointer.nativeValue(appdata));
        if (session == null) {
            return PAM_CONV_ERR;
        }
        LibC libc = Libs.C;
        // struct pam_response { char *resp; int resp_retcode; }: two words.
        final long size = 2L * Native.POINTER_SIZE;
        Pointer replies = libc.calloc(new NativeLong(numMsg), new NativeLong(size));
        if (replies == null) {
            return PAM_BUF_ERR;
        }
        int rc = PAM_SUCCESS;
        for (int i = 0; i < numMsg && rc == PAM_SUCCESS; i++) {
            // Linux-PAM passes an array of pointers to
            // struct pam_message { int msg_style; const char *msg; }.
            Pointer m = msg.getPointer((long) i * Native.POINTER_SIZE);
            if (m == null) {
                rc = PAM_CONV_ERR;
                break;
            }
            int style = m.getInt(0);
            switch (style) {
            case PAM_PROMPT_ECHO_OFF: {
                byte[] pw = session.password;
                Pointer p = libc.malloc(new NativeLong(pw.length + 1L));
                if (p == null) {
                    rc = PAM_BUF_ERR;
                    break;
                }
                p.write(0, pw, 0, pw.length);
                p.setByte(pw.length, (byte) 0);
                replies.setPointer((long) i * size, p);
                break;
            }
            case PAM_ERROR_MSG:
            case PAM_TEXT_INFO:
                if (LOG.isLoggable(Level.FINE)) {
                    Pointer text = m.getPointer(Native.POINTER_SIZE);
                    LOG.fine("PAM message for " + session.user + ": "
                            + (text == null ? "" : text.getString(0, "UTF-8")));
                }
                break;
            default:
                // PAM_PROMPT_ECHO_ON and anything else: nothing to answer
                // with over HTTP Basic (the user is already set).
                rc = PAM_CONV_ERR;
                break;
            }
        }
        if (rc != PAM_SUCCESS) {
            for (int i = 0; i < numMsg; i++) {
                Pointer p = replies.getPointer((long) i * size);
                if (p != null) {
                    p.setMemory(0, session.password.length, (byte) 0);
                    libc.free(p);
                }
            }
            libc.free(replies);
            return rc;
        }
        resp.setPointer(0, replies);
        return PAM_SUCCESS;
    }
}
