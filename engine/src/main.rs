//! `hemobridge`: see `hemobridge --help` and README.md.

use clap::Parser;
use hemobridge_engine::cli::{run, Cli};
use hemobridge_engine::logging;

fn main() {
    let cli = Cli::parse();
    let json_logs = logging::json_requested(cli.config.as_deref(), |name| std::env::var(name).ok());
    logging::init(json_logs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
