//! `todo-local`: the To Do product on one machine, no AWS account, no Docker.
//!
//! - [`auth`]: the development sign-in (OIDC code + PKCE, Cognito-shaped ID tokens) and the
//!   verifier that checks tokens as API Gateway's Cognito authorizer does;
//! - [`gateway`]: API Gateway's REST proxy emulation in front of the Lambda handlers;
//! - [`live`]: live updates, a WebSocket per session fed by the projector;
//! - [`spa`]: the built SPA and its `/config.json`;
//! - [`app`]: the server that puts them on one origin; [`cli`] its command line.

pub mod app;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod feed;
pub mod files;
pub mod gateway;
pub mod live;
pub mod logging;
pub mod spa;
pub mod sqlite;

use std::io::Write;

use anyhow::Context;

use crate::app::{BoundStack, auth_dir, dev_issuer, recorded_issuer};
use crate::cli::{Cli, Command, ServeArgs, TokenArgs};

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Token(args)) => print_token(args),
        None => serve(cli.serve).await,
    }
}

/// How often `todo-local` writes the metrics recorded since the last time: the same EMF lines the
/// Lambda functions write, on stderr beside the log.
const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    todo_platform::observe::init_metrics("todo-local", Some(METRICS_EVERY));
    let stack = BoundStack::bind(args.into_config()).await?;
    let functions = backend::functions(&stack.context()).await?;
    let app = stack.with_functions(functions)?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "todo-local listening on {}", app.origin()).context("writing to stdout")?;
        stdout.flush().context("writing to stdout")?;
    }
    app.run_until(shutdown_signal()).await
}

fn print_token(args: TokenArgs) -> anyhow::Result<()> {
    let issuer = match args.port {
        Some(port) => dev_issuer(port),
        None => recorded_issuer(&args.data_dir)?.unwrap_or_else(|| dev_issuer(8080)),
    };
    let token = auth::issue_token_for(&auth_dir(&args.data_dir), &issuer, &args.email)?;
    println!("{token}");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for Ctrl-C failed");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
