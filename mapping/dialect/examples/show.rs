//! Converts a file with a profile and prints the document or the row
//! errors: `cargo run -p hemobridge-dialect --example show PROFILE FILE`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let profile =
        hemobridge_dialect::Profile::from_toml(&std::fs::read_to_string(&args[1]).unwrap())
            .unwrap();
    let bytes = std::fs::read(&args[2]).unwrap();
    match profile.to_document(&bytes, Some(&args[2]), "H3201001", &Default::default()) {
        Ok((_, c)) => println!("{}", serde_json::to_string_pretty(&c.document).unwrap()),
        Err(e) => e
            .rows
            .iter()
            .for_each(|r| println!("{}\n{}", r.message_zh, r.message_en)),
    }
}
