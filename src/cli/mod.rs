//! Command-line interface: argument definitions and one module per subcommand.

pub mod args;
pub mod device_args;
pub mod eval;
pub mod loopback;
pub mod per_sweep;
pub mod prepare_data;
pub mod record;
pub mod recording_args;
pub mod replay;
pub mod report;
pub mod rx;
pub mod scenario_run;
pub mod semantic_args;
pub mod sweep;
pub mod train;
pub mod tx;

use clap::{Parser, Subcommand};

/// IEEE 802.11a OFDM link tools of the m4sc semantic communication system.
#[derive(Debug, Parser)]
#[command(name = "m4sc", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a multi-user semantic scenario (or, with --data-frames, data frames) through
    /// the radio.
    #[command(long_about = loopback::LONG_ABOUT)]
    Loopback(loopback::LoopbackArgs),
    /// Encode random data frames and write the baseband samples to a cf32 file.
    Tx(tx::TxArgs),
    /// Decode every frame in a cf32 file or SigMF recording and report what was received
    /// and dropped (--record DIR keeps it as an annotated SigMF recording).
    Rx(rx::RxArgs),
    /// Record a file or the channel simulator into an annotated SigMF recording.
    #[command(long_about = record::LONG_ABOUT)]
    Record(record::RecordArgs),
    /// List the radios SoapySDR finds, or check a device profile (--profile).
    Devices(device_args::DevicesArgs),
    /// Decode a SigMF recording and report frames decoded and lost against its annotations.
    #[command(long_about = replay::LONG_ABOUT)]
    Replay(replay::ReplayArgs),
    /// Measure packet and bit error rate against SNR for each data rate.
    #[command(long_about = per_sweep::LONG_ABOUT)]
    PerSweep(per_sweep::PerSweepArgs),
    /// Build the semantic model's data splits from the raw data sets.
    #[command(long_about = prepare_data::LONG_ABOUT)]
    PrepareData(prepare_data::PrepareDataArgs),
    /// Train the semantic model on prepared data (checkpoints; --resume continues).
    Train(train::TrainArgs),
    /// Evaluate every task of a trained semantic model through the channel at one SNR.
    Eval(eval::EvalArgs),
    /// Evaluate over a range of SNRs and channels; write a CSV and PNG charts.
    EvalSweep(eval::EvalSweepArgs),
    /// The semantic system against the classical baseline over an SNR range.
    #[command(long_about = sweep::LONG_ABOUT)]
    Sweep(sweep::SweepArgs),
}

impl Cli {
    /// Runs the chosen subcommand, printing its report on stdout.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Loopback(args) => loopback::run(&args),
            Command::Tx(args) => tx::run(&args),
            Command::Rx(args) => rx::run(&args),
            Command::Record(args) => record::run(&args),
            Command::Replay(args) => replay::run(&args),
            Command::Devices(args) => device_args::run_devices(&args),
            Command::PerSweep(args) => per_sweep::run(&args),
            Command::PrepareData(args) => prepare_data::run(&args),
            Command::Train(args) => train::run(&args),
            Command::Eval(args) => eval::run_eval(&args),
            Command::EvalSweep(args) => eval::run_sweep(&args),
            Command::Sweep(args) => sweep::run(&args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn argument_definitions_are_consistent() {
        // clap's own checks: duplicate flags between flattened option groups, bad
        // defaults and conflicting settings fail here instead of at a user's command.
        Cli::command().debug_assert();
    }
}
