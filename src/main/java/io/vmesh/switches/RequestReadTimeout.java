package io.vmesh.switches;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.apache.camel.component.netty.DefaultChannelHandlerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data port's deadline for receiving a request: a client has {@code timeout} from opening the
 * connection (or from starting its next request on a kept-alive one) to have sent the whole request,
 * headers and body. One that trickles its body, or stalls in the middle, gets a {@code 408} and the
 * connection is closed; the partial body is dropped before any route sees it, so nothing is stored.
 * Time spent processing a complete request is not limited here.
 *
 * <p>camel-netty-http adds it to each connection's pipeline right after the HTTP decoder (endpoint
 * option {@code decoders}), so it sees each request's head and the end of its body.
 */
public final class RequestReadTimeout extends DefaultChannelHandlerFactory {

    private static final Logger LOG = LoggerFactory.getLogger(RequestReadTimeout.class);

    private final Duration timeout;

    public RequestReadTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("vmesh.http.request-read-timeout-ms must be positive, not " + timeout.toMillis());
        }
        this.timeout = timeout;
    }

    @Override
    public ChannelHandler newChannelHandler() {
        return new Deadline();
    }

    /** One per connection: armed while a request is being received. */
    private final class Deadline extends ChannelInboundHandlerAdapter {

        private ScheduledFuture<?> timer;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            arm(ctx); // covers a client that connects and sends nothing, or only part of the headers
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest && timer == null) {
                arm(ctx); // the next request on a kept-alive connection
            }
            if (msg instanceof LastHttpContent) {
                cancel(); // the whole request is here
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            cancel();
            super.channelInactive(ctx);
        }

        private void arm(ChannelHandlerContext ctx) {
            cancel();
            timer = ctx.executor().schedule(() -> expire(ctx), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void cancel() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        private void expire(ChannelHandlerContext ctx) {
            timer = null;
            if (!ctx.channel().isActive()) {
                return;
            }
            LOG.warn("Closed a data-port connection from {}: its request was not complete after {} ms",
                    ctx.channel().remoteAddress(), timeout.toMillis());
            byte[] body = ("{\"error\":\"request not received completely within " + timeout.toMillis() + " ms\"}")
                    .getBytes(StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.wrappedBuffer(body));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            // from the channel's tail, so that it passes the response encoder that sits after this handler
            ctx.channel().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
