package io.vmesh.security;

import io.vmesh.RejectedRequest;
import io.vmesh.migration.PeerBatch;
import io.vmesh.migration.PeerIntake;
import io.vmesh.switches.CallRequests;
import io.vmesh.switches.HttpRefusal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import org.apache.camel.component.netty.DefaultChannelHandlerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a data-port request on its head, before its body is read or buffered: a call without its
 * switch's token ({@code /switch/{id}/calls}, 401), a migration without a valid peer signature
 * ({@code /peer/voicemail} and {@code /peer/voicemails}, 401 or 403: everything signed is in the head), and any other request
 * announcing more than {@value #SMALL_BODY} bytes (413: mailbox requests carry a PIN at most). The
 * routes check the same again; this only keeps unauthenticated bodies out of memory.
 *
 * <p>A refused request's body is drained and dropped if it is small, so that its client reads the
 * answer; a larger one's connection is closed once the answer is written.
 */
public final class RequestHeadCheck extends DefaultChannelHandlerFactory {

    private static final Logger LOG = LoggerFactory.getLogger(RequestHeadCheck.class);
    static final int SMALL_BODY = 64 * 1024;
    private static final long DRAINED_AT_MOST = 1024 * 1024;
    private static final Pattern SWITCH_CALLS = Pattern.compile("/switch/([^/]*)/calls");

    private final CallRequests callRequests;
    private final PeerAuthentication peers;

    public RequestHeadCheck(CallRequests callRequests, PeerAuthentication peers) {
        this.callRequests = callRequests;
        this.peers = peers;
    }

    @Override
    public ChannelHandler newChannelHandler() {
        return new Check();
    }

    /** Whether a request may go on to be read; throws the refusal otherwise. */
    void check(HttpRequest request) {
        HttpHeaders headers = request.headers();
        String path = new QueryStringDecoder(request.uri()).path();
        Matcher call = SWITCH_CALLS.matcher(path);
        if (request.method().equals(HttpMethod.POST) && call.matches()) {
            callRequests.requireToken(call.group(1), headers.get(HttpHeaderNames.AUTHORIZATION));
        } else if (request.method().equals(HttpMethod.POST) && (path.equals("/peer/voicemail") || path.equals(PeerBatch.PATH))) {
            peers.checkSignature(request.method().name(), request.uri(), headers.get(PeerAuthentication.PEER),
                    headers.get(PeerAuthentication.TIMESTAMP), headers.get(PeerAuthentication.SIGNATURE),
                    headers.get(PeerIntake.MESSAGE_ID), headers.get(PeerIntake.METADATA), headers.get(PeerIntake.SHA256));
        } else if (HttpUtil.getContentLength(request, 0L) > SMALL_BODY || HttpUtil.isTransferEncodingChunked(request)) {
            throw new RejectedRequest(413, "only calls and migrations carry a body larger than " + SMALL_BODY + " bytes");
        }
    }

    /** One per connection. */
    private final class Check extends ChannelInboundHandlerAdapter {

        /** The answer to a refused request: what it still sends is dropped, and the connection closed after. */
        private ChannelFuture refusal;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (refusal != null) {
                if (msg instanceof LastHttpContent) {
                    refusal.addListener(ChannelFutureListener.CLOSE);
                }
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpRequest request) {
                try {
                    check(request);
                } catch (RejectedRequest refused) {
                    LOG.info("Refused {} {} from {} on its head: {}", request.method(), Printable.of(request.uri()),
                            ctx.channel().remoteAddress(), refused.getMessage());
                    long length = HttpUtil.getContentLength(request, -1L);
                    boolean drain = length >= 0 && length <= DRAINED_AT_MOST;
                    refusal = HttpRefusal.send(ctx, refused.getStatus(), refused.getMessage(), null, !drain);
                    if (!drain) {
                        ctx.channel().config().setAutoRead(false); // not one more byte of it
                    }
                    channelRead(ctx, msg); // released, and closes after the answer if the request ended with its head
                    return;
                }
            }
            super.channelRead(ctx, msg);
        }
    }
}
