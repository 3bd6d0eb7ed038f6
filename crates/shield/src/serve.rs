//! Running the web server until Ctrl-C or SIGTERM, then finishing in-flight requests.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use shield_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Binds, then serves. `bound` (if given) learns the actual address, which matters when the
/// port was 0; tests and the demo use it.
pub async fn serve(
    state: shield_web::AppState,
    listen: SocketAddr,
    bound: Option<oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = state.store.clone();
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend().name(), "listening");
    if let Some(tx) = bound {
        let _ = tx.send(addr);
    }
    let app = shield_web::router(state);
    // Peer addresses reach the handlers, for the per-address sign-in limits.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
