//! `hemobridge`: see `hemobridge --help` and README.md.

use clap::Parser;
use hemobridge_engine::cli::{run, Cli};

fn main() {
    let cli = Cli::parse();
    let json_logs = std::env::var("HEMOBRIDGE_LOG_FORMAT").as_deref() == Ok("json");
    init_logging(json_logs);
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

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HEMOBRIDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
