package io.vmesh.switches;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.apache.camel.component.netty.DefaultChannelHandlerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the data port holds at once, so that no client can exhaust its memory: at most
 * {@code maxConnections} open connections, and at most {@code maxBytesInFlight} bytes of request
 * bodies being received or processed (each request counts its declared length, or the largest body
 * the port takes if it declares none, from its head until its final answer starts; a {@code 100
 * Continue} is not one). Beyond either: {@code 503} with {@code Retry-After}, and the connection
 * closed. A connection on which nothing is read for {@code idleTimeout} while the server waits for
 * the client (after an answer, or for a body after a {@code 100 Continue}) is closed.
 *
 * <p>camel-netty-http puts it in each connection's pipeline after the response encoder (endpoint
 * option {@code encoders}), so that it sees answers as HTTP objects; inbound it comes after the
 * decoders, {@link io.vmesh.security.RequestHeadCheck} among them: a request refused on its head
 * never counts here.
 */
public final class DataPortLimits extends DefaultChannelHandlerFactory {

    private static final Logger LOG = LoggerFactory.getLogger(DataPortLimits.class);
    private static final long RETRY_AFTER_SECONDS = 1;

    private final int maxConnections;
    private final long maxBytesInFlight;
    private final long largestBody;
    private final Duration idleTimeout;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong bytesInFlight = new AtomicLong();

    public DataPortLimits(int maxConnections, long maxBytesInFlight, long largestBody, Duration idleTimeout) {
        if (maxConnections < 1 || maxBytesInFlight < largestBody || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("vmesh.http.max-connections must be at least 1, vmesh.http.max-bytes-in-flight at "
                    + "least the largest body (" + largestBody + "), vmesh.http.idle-timeout-ms positive");
        }
        this.maxConnections = maxConnections;
        this.maxBytesInFlight = maxBytesInFlight;
        this.largestBody = largestBody;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public ChannelHandler newChannelHandler() {
        return new Limits();
    }

    /** One per connection. */
    private final class Limits extends ChannelDuplexHandler {

        private boolean counted;
        private boolean refused;
        /** Bytes this connection's current request holds of {@link #bytesInFlight}. */
        private long reserved;
        private ScheduledFuture<?> idle;
        /** A request was read and its final answer is not written yet. */
        private boolean inRequest;
        /** A {@code 100 Continue} was written and the request's body is not all read: the client is awaited. */
        private boolean bodyAwaited;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            counted = true;
            if (connections.incrementAndGet() > maxConnections) {
                LOG.warn("Refused a data-port connection from {}: {} connections are open already", ctx.channel().remoteAddress(),
                        maxConnections);
                refuse(ctx, "the server has " + maxConnections + " connections open; retry later");
                return;
            }
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (refused) {
                ReferenceCountUtil.release(msg);
                return;
            }
            cancelIdle();
            if (msg instanceof HttpRequest request) {
                release();
                long length = HttpUtil.getContentLength(request, -1L);
                long need = length < 0 ? (HttpUtil.isTransferEncodingChunked(request) ? largestBody : 0) : Math.min(length, largestBody);
                if (bytesInFlight.addAndGet(need) > maxBytesInFlight) {
                    bytesInFlight.addAndGet(-need);
                    LOG.warn("Refused {} {} from {}: the data port holds {} bytes of requests already", request.method(),
                            io.vmesh.security.Printable.of(request.uri()), ctx.channel().remoteAddress(), bytesInFlight.get());
                    ReferenceCountUtil.release(msg);
                    refuse(ctx, "the server is receiving as much as it takes at once; retry later");
                    return;
                }
                reserved = need;
                inRequest = true;
                bodyAwaited = false;
            }
            if (msg instanceof LastHttpContent) {
                bodyAwaited = false;
            } else if (bodyAwaited) {
                armIdle(ctx); // a part of the body: the client is still awaited for the rest
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            // the response encoder sits before this handler: what passes here are the answer's HTTP objects
            boolean interim = msg instanceof HttpResponse response && response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (interim) {
                bodyAwaited = inRequest; // the aggregator's 100 Continue: the request holds its bytes until its answer
            } else {
                // the final answer's first object ends the request's hold on memory (its route is done with the body)
                release();
                inRequest = false;
                bodyAwaited = false;
            }
            cancelIdle();
            promise = promise.unvoid().addListener(written -> {
                if (ctx.channel().isActive() && (!inRequest || bodyAwaited)) {
                    armIdle(ctx);
                }
            });
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            cancelIdle();
            release();
            if (counted) {
                counted = false;
                connections.decrementAndGet();
            }
            super.channelInactive(ctx);
        }

        private void refuse(ChannelHandlerContext ctx, String error) {
            refused = true;
            ctx.channel().config().setAutoRead(false);
            HttpRefusal.send(ctx, 503, error, RETRY_AFTER_SECONDS, true);
        }

        private void release() {
            if (reserved > 0) {
                bytesInFlight.addAndGet(-reserved);
                reserved = 0;
            }
        }

        private void armIdle(ChannelHandlerContext ctx) {
            cancelIdle();
            idle = ctx.executor().schedule(() -> {
                idle = null;
                ctx.channel().close();
            }, idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void cancelIdle() {
            if (idle != null) {
                idle.cancel(false);
                idle = null;
            }
        }
    }

    /** For tests and metrics: the connections open now. */
    public int openConnections() {
        return connections.get();
    }

}
