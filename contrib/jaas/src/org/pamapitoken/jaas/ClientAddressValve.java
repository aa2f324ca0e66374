package org.pamapitoken.jaas;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Makes the client address of each request available to
 * {@link PamLoginModule} (as {@code PAM_RHOST}) while Tomcat authenticates
 * it.
 *
 * <p>Configure it in server.xml inside {@code <Engine>} or {@code <Host>}:
 * Engine and Host valves run before every Context valve, including the
 * authenticator Tomcat adds to each Context that has a login-config. (A
 * valve in an application's META-INF/context.xml also runs before that
 * authenticator in Tomcat 10.1, which adds it last; tests/live_tomcat.sh
 * checks both placements.) The
 * address is {@code request.getRemoteAddr()}, so a
 * {@code RemoteIpValve} placed before this valve (and trusting only your
 * proxies) decides it for requests that come through a reverse proxy.
 */
public class ClientAddressValve extends ValveBase {

    public ClientAddressValve() {
        super(true); // supports async requests
    }

    @Override
    public void invoke(Request request, Response response)
            throws IOException, ServletException {
        String previous = ClientAddress.set(request.getRemoteAddr());
        try {
            getNext().invoke(request, response);
        } finally {
            ClientAddress.restore(previous);
        }
    }
}
