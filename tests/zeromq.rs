//! One transmitter and two receivers as separate `m4sc` processes, joined by ZeroMQ on
//! 127.0.0.1: `cargo test --release --features zeromq --test zeromq`.
#![cfg(feature = "zeromq")]

use std::process::{Command, Stdio};

fn m4sc(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_m4sc"));
    c.args(args).env("RUST_LOG", "error");
    c
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

#[test]
fn two_receiver_processes_each_decode_everything_one_transmitter_publishes() {
    let address = format!("tcp://127.0.0.1:{}", free_port());
    // Three idle seconds end a receiver: far longer than any pause of the publisher.
    let rx_args: Vec<String> = ["rx", "--zmq", &address, "--zmq-idle-s", "3", "--json"]
        .map(String::from)
        .to_vec();
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            m4sc(&rx_args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("receiver starts")
        })
        .collect();
    // 12 frames, data at 36 Mb/s and semantic, over AWGN at 30 dB; the transmitter
    // publishes once both receivers have subscribed.
    let tx_args: Vec<String> = [
        "tx",
        "--zmq",
        &address,
        "--zmq-subscribers",
        "2",
        "--frames",
        "10",
        "--rate",
        "36",
        "--payload-bytes",
        "600",
        "--semantic-frames",
        "2",
        "--snr-db",
        "30",
        "--json",
    ]
    .map(String::from)
    .to_vec();
    let tx = m4sc(&tx_args).output().expect("transmitter runs");
    assert!(
        tx.status.success(),
        "transmitter: {}",
        String::from_utf8_lossy(&tx.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&tx.stdout).unwrap();
    assert_eq!(sent["frames_sent"], 12);
    for (i, rx) in receivers.into_iter().enumerate() {
        let out = rx.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "receiver {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["frames_decoded"], 12, "receiver {i}: {got}");
        assert_eq!(got["receiver"]["semantic_frames"], 2, "receiver {i}");
        assert_eq!(
            got["samples"], sent["samples"],
            "receiver {i} must hear every sample"
        );
    }
}
