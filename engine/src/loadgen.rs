//! `hemobridge loadgen`: generated blood-bank messages (BPS^O29, about
//! 1 KB, each with a unique control id and DIN) over many MLLP connections;
//! every ACK's MSA-2 is checked against the control id it answers.

use anyhow::Result;
use std::sync::Arc;
use std::time::Duration;

/// A realistic BPS^O29: a red-cell unit issued to a patient, with the
/// fields a transfusion-service system fills in.
pub fn bps_message(facility: &str, seq: u64, run: &str) -> (Vec<u8>, String) {
    let control_id = format!("LG{run}{seq:010}");
    let din = format!(
        "W{:04}{:02}{:06}",
        9000 + (seq / 1_000_000) % 1000,
        26,
        seq % 1_000_000
    );
    let text = format!(
        "MSH|^~\\&|LIS|{facility}|HEMOBRIDGE|PROVINCE|20261122083000+0800||BPS^O29^BPS_O29|{control_id}|P|2.5|||||CHN|UNICODE UTF-8\r\
PID|1||PAT{seq:08}^^^{facility}^MR||LOAD^TEST||19800101|M|||1 MAIN ST^^NANJING^JS^210000^CHN||||||||\r\
PV1|1|I|WARD7^701^1^{facility}||||ATT1^DOCTOR^A|||MED||||||||IP{seq:08}|||||||||||||||||||||||||20261121080000+0800\r\
ORC|RE|ORD{seq:08}^{facility}|FIL{seq:08}^BB||CM||||20261122080000+0800|||ATT1^DOCTOR^A\r\
BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||2|400|mL|20261122090000+0800|||||||Y\r\
BPX|1|DS^Dispensed to patient location^HL70510|F|20261122083000+0800|{din}^^^ISBT128|RBC-LR^去白细胞悬浮红细胞^HB|||||5100^O RhD POS^ISBT128||20261220235959+0800|2|400|mL^mL^UCUM||WARD7^701^1^{facility}||||TECH1^BLOODBANK^A\r\
BPX|2|DS^Dispensed to patient location^HL70510|F|20261122083000+0800|{din}^^^ISBT128|PLS-FFP^新鲜冰冻血浆^HB|||||5100^O RhD POS^ISBT128||20271122235959+0800|200|200|mL^mL^UCUM||WARD7^701^1^{facility}||||TECH1^BLOODBANK^A\r"
    );
    (text.into_bytes(), control_id)
}

pub async fn run(
    addr: &str,
    connections: usize,
    messages: u64,
    rate: Option<u64>,
    facility: &str,
) -> Result<i32> {
    let run_id = format!("{:x}", chrono::Utc::now().timestamp() % 0xFFFFFF);
    let facility = facility.to_string();
    let make: Arc<dyn Fn(u64) -> (Vec<u8>, String) + Send + Sync> =
        Arc::new(move |seq| bps_message(&facility, seq, &run_id));
    let config = hemobridge_mllp::LoadConfig {
        addr: addr.to_string(),
        connections,
        messages,
        rate,
        timeout: Duration::from_secs(30),
    };
    let report = hemobridge_mllp::loadgen::run(config, make).await?;
    println!("{report}");
    let all_accepted =
        report.mismatched_control_ids == 0 && report.errors == 0 && report.acked == report.sent;
    Ok(if all_accepted { 0 } else { 1 })
}
