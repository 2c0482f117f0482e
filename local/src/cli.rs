//! The command line: `todo-local [serve options]` and `todo-local token --email E`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::app::{CognitoSettings, ServeConfig};

#[derive(Debug, Parser)]
#[command(
    name = "todo-local",
    version,
    about = "The whole To Do stack on one machine: the API behind an API Gateway + Cognito emulation, \
             the development sign-in and the SPA, on http://127.0.0.1:<port>",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an ID token for a user (created if missing, with a random password) that a stack
    /// running on the same data dir accepts.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Where the stack keeps its state (store, accounts, signing key).
    #[arg(long, default_value = ".data")]
    pub data_dir: PathBuf,
    /// The built SPA.
    #[arg(long, default_value = "www/dist")]
    pub www_dir: PathBuf,
    /// Use the DynamoDB tables (and their stream) at this endpoint instead of the embedded store.
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// Another redirect URI the sign-in accepts besides <origin>/ (repeatable), e.g. a dev server's.
    #[arg(long = "allowed-redirect-uri", value_name = "URL")]
    pub allowed_redirect_uris: Vec<Url>,
    /// Verify real Cognito ID tokens of this user pool (e.g. us-east-1_AbC123) instead of the dev sign-in's.
    #[arg(long, requires_all = ["cognito_client_id", "cognito_jwks"])]
    pub cognito_user_pool_id: Option<String>,
    /// The Cognito app client id the tokens must be issued for.
    #[arg(long, requires = "cognito_user_pool_id")]
    pub cognito_client_id: Option<String>,
    /// The user pool's JWKS, saved to a file (no network access is assumed).
    #[arg(long, value_name = "FILE", requires = "cognito_user_pool_id")]
    pub cognito_jwks: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user's email.
    #[arg(long)]
    pub email: String,
    /// The data dir of the stack that must accept the token.
    #[arg(long, default_value = ".data")]
    pub data_dir: PathBuf,
    /// The port of that stack; by default the one the last server started on this data dir
    /// recorded, else 8080.
    #[arg(long)]
    pub port: Option<u16>,
}

impl ServeArgs {
    pub fn into_config(self) -> ServeConfig {
        let cognito = match (self.cognito_user_pool_id, self.cognito_client_id, self.cognito_jwks) {
            (Some(user_pool_id), Some(client_id), Some(jwks_file)) => {
                Some(CognitoSettings { user_pool_id, client_id, jwks_file })
            }
            _ => None,
        };
        ServeConfig {
            port: self.port,
            data_dir: self.data_dir,
            www_dir: self.www_dir,
            extra_redirect_uris: self.allowed_redirect_uris,
            cognito,
            dynamodb_endpoint: self.dynamodb_endpoint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serving_is_the_default_and_token_is_a_subcommand() {
        let cli = Cli::try_parse_from(["todo-local", "--port", "0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.port, 0);

        let cli =
            Cli::try_parse_from(["todo-local", "token", "--email", "a@example.com", "--data-dir", "/tmp/d"]).unwrap();
        match cli.command {
            Some(Command::Token(args)) => {
                assert_eq!(args.email, "a@example.com");
                assert_eq!(args.data_dir, PathBuf::from("/tmp/d"));
            }
            None => panic!("expected the token subcommand"),
        }
    }

    #[test]
    fn cognito_flags_go_together() {
        assert!(Cli::try_parse_from(["todo-local", "--cognito-user-pool-id", "us-east-1_x"]).is_err());
        let cli = Cli::try_parse_from([
            "todo-local",
            "--cognito-user-pool-id",
            "us-east-1_x",
            "--cognito-client-id",
            "abc",
            "--cognito-jwks",
            "jwks.json",
        ])
        .unwrap();
        assert!(cli.serve.into_config().cognito.is_some());
    }
}
