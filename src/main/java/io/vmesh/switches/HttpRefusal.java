package io.vmesh.switches;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An answer a data-port channel handler gives on its own, before any route runs: the same
 * {@code {"error": ...}} body as the routes' refusals, and the connection closed after it.
 */
public final class HttpRefusal {

    private HttpRefusal() {
    }

    /**
     * Sends the refusal, saying that the connection closes; {@code closeNow} closes it once written
     * (else the handler drains the rest of the request, then closes it: a client still sending a small
     * body then reads the answer instead of a reset connection).
     */
    public static ChannelFuture send(ChannelHandlerContext ctx, int status, String error, Long retryAfterSeconds, boolean closeNow) {
        byte[] body = ("{\"error\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(error)) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (retryAfterSeconds != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
        }
        // from the channel's tail, so that it passes the response encoder that sits after these handlers
        var written = ctx.channel().writeAndFlush(response);
        if (closeNow) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
        return written;
    }
}
