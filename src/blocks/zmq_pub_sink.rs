//! Stream sink publishing IQ samples on a ZeroMQ socket, GNU Radio style.

use crate::io::cf32::encode_cf32;
use futuresdr::runtime::dev::prelude::*;
use std::time::{Duration, Instant};

/// Largest number of samples per ZeroMQ message.
const MESSAGE_SAMPLES: usize = 1 << 16;

/// Publishes its input on a ZeroMQ publish socket bound to `address` as raw
/// interleaved little-endian `f32` I/Q (`complex64`, what GNU Radio's ZMQ SUB Source
/// reads), at most 65 536 samples per message, no header.
///
/// A publisher drops what it sends before a subscriber has joined, so the block waits
/// (up to `wait`) until `subscribers` subscriptions have arrived before it publishes
/// the first sample: the socket is XPUB, which sees subscriptions and is wire-compatible
/// with PUB. Waiting longer fails the flowgraph with an error naming the address. At the
/// end the socket lingers until everything queued was sent. Limit: a subscriber that
/// falls more than 1000 messages behind loses messages (ZeroMQ's send high-water mark).
///
/// # Stream Inputs
///
/// `input`: samples to publish.
///
/// # Stream Outputs
///
/// No stream outputs.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```ignore
/// let publisher = fg.add(ZmqPubSink::new("tcp://127.0.0.1:5555", 2, Duration::from_secs(10)));
/// ```
#[derive(Block)]
#[blocking]
pub struct ZmqPubSink<I = DefaultCpuReader<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
{
    address: String,
    subscribers: usize,
    wait: Duration,
    socket: Option<zmq::Socket>,
    bytes: Vec<u8>,
    published: u64,
    #[input]
    input: I,
}

impl ZmqPubSink<DefaultCpuReader<Complex32>> {
    /// A publisher on `address` (e.g. `tcp://127.0.0.1:5555`) that waits for
    /// `subscribers` subscribers, at most `wait`.
    pub fn new(address: &str, subscribers: usize, wait: Duration) -> Self {
        Self {
            address: address.to_string(),
            subscribers,
            wait,
            socket: None,
            bytes: Vec::new(),
            published: 0,
            input: super::large_input(),
        }
    }
}

impl<I> ZmqPubSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    /// Samples published.
    pub fn samples_published(&self) -> u64 {
        self.published
    }

    fn error(&self, what: &str, e: zmq::Error) -> anyhow::Error {
        anyhow::anyhow!("ZeroMQ publisher {}: {what}: {e}", self.address)
    }
}

#[doc(hidden)]
impl<I> Kernel for ZmqPubSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    async fn init(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        let socket = zmq::Context::new()
            .socket(zmq::XPUB)
            .map_err(|e| self.error("socket", e))?;
        socket
            .set_linger(5000)
            .map_err(|e| self.error("linger", e))?;
        // Pass every subscription up, not only the first of each topic, so that each
        // receiver is counted.
        socket
            .set_xpub_verbose(true)
            .map_err(|e| self.error("verbose subscriptions", e))?;
        socket
            .bind(&self.address)
            .map_err(|e| self.error("bind", e))?;
        socket
            .set_rcvtimeo(100)
            .map_err(|e| self.error("timeout", e))?;
        let start = Instant::now();
        let mut joined = 0;
        while joined < self.subscribers {
            if start.elapsed() > self.wait {
                anyhow::bail!(
                    "ZeroMQ publisher {}: {joined} of {} subscribers joined within {:?}",
                    self.address,
                    self.subscribers,
                    self.wait
                );
            }
            match socket.recv_bytes(0) {
                // A subscription message starts with 1 (an unsubscription with 0).
                Ok(m) if m.first() == Some(&1) => joined += 1,
                Ok(_) | Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(self.error("waiting for subscribers", e)),
            }
        }
        debug!("{}: {joined} subscribers joined", self.address);
        self.socket = Some(socket);
        Ok(())
    }

    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let input = self.input.slice();
        let n = input.len().min(MESSAGE_SAMPLES);
        if n > 0 {
            self.bytes.clear();
            encode_cf32(&input[..n], &mut self.bytes);
            let Some(socket) = self.socket.as_ref() else {
                anyhow::bail!("ZeroMQ publisher {}: work() before init()", self.address);
            };
            socket
                .send(&self.bytes, 0)
                .map_err(|e| anyhow::anyhow!("ZeroMQ publisher {}: send: {e}", self.address))?;
            self.input.consume(n);
            self.published += n as u64;
            io.call_again = true;
        } else if self.input.finished() {
            io.finished = true;
        }
        Ok(())
    }
}
