package io.vmesh.migration;

import java.nio.file.Path;

import org.apache.camel.support.processor.idempotent.FileIdempotentRepository;

/**
 * The message ids this server received from its peers, for the {@code once-per-message-id}
 * idempotent consumer of {@code receive-migration}: camel's file-backed repository, answering from
 * its in-memory cache only. At start the cache is filled from the file (the most recent
 * {@code remembered} ids), and every new id is appended to the file as before.
 *
 * <p>Camel's {@link FileIdempotentRepository} also reads its whole file on every cache miss, which
 * is every new message id: with 10,000 ids on file that scan was more than half of a receiving
 * server's CPU during a drain, growing with every message received (docs/performance.md). An id
 * older than the last {@code remembered} ones is still recognised by the mailbox check that follows
 * (the message is in the mailbox); only one its owner has since deleted would be stored again.
 */
public final class ReceivedMessageIds extends FileIdempotentRepository {

    public ReceivedMessageIds(Path file, int remembered) {
        setFileStore(file.toFile());
        setCacheSize(remembered);
        setMaxFileStoreSize(64L * 1024 * 1024);
    }

    @Override
    protected boolean containsStore(String key) {
        return false; // the cache holds the file's ids: see the class comment
    }
}
