//! Write transactions, and SQLite's in-process write queue.
//!
//! SQLite has one writer at a time. Left to itself, a second writer waits in SQLite's busy
//! handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and polls: under load a
//! writer can sleep long after the lock came free, and a burst of writers starves some of them
//! for seconds (measured with `shield bench intake`). So a SQLite store queues its own writers
//! on a fair async mutex first ([`WriteTx`] holds the turn until commit or rollback) and
//! SQLite's busy timeout is left for writers in other processes. PostgreSQL needs no queue.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

/// The write queue of one SQLite store (shared by its clones).
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteGate(Arc<Mutex<()>>);

impl WriteGate {
    /// Waits for this process's turn to write (first come, first served).
    pub(crate) async fn turn(&self) -> OwnedMutexGuard<()> {
        Arc::clone(&self.0).lock_owned().await
    }
}

/// A write transaction, holding the process's write turn on SQLite until it ends. Derefs to
/// the connection, like `sqlx::Transaction`.
#[derive(Debug)]
pub struct WriteTx<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> WriteTx<DB> {
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, DB>,
        turn: Option<OwnedMutexGuard<()>>,
    ) -> Self {
        Self { tx, _turn: turn }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl<DB: sqlx::Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: sqlx::Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
