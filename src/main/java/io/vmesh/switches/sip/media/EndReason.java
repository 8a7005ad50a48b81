package io.vmesh.switches.sip.media;

/** Why a recording ended on vmesh's side (a BYE from the caller is signalling's business). */
public enum EndReason {
    /** The caller pressed '#' (RFC 4733 telephone-event 11). */
    HASH,
    /** The message reached the configured maximum length. */
    MAX_LENGTH,
    /** Nothing but silence (or no RTP at all) for the configured silence timeout. */
    SILENCE
}
