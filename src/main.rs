//! `m4sc`: command-line entry point.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The logger must be installed before any FutureSDR runtime starts: the runtime
    // otherwise claims the `log` facade for its own tracing subscriber.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn,m4sc=info"))
        .init();
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
