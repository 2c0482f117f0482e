use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_platform::config::init_tracing();
    todo_local::run(todo_local::cli::Cli::parse()).await
}
