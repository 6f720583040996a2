//! Stream source subscribing to IQ samples on a ZeroMQ socket, GNU Radio style.

use crate::io::cf32::{decode_cf32, CF32_BYTES_PER_SAMPLE};
use futuresdr::runtime::dev::prelude::*;
use std::time::{Duration, Instant};

/// Reads raw interleaved little-endian `f32` I/Q (`complex64`, what GNU Radio's ZMQ PUB
/// Sink sends) from a ZeroMQ subscribe socket connected to `address`.
///
/// A publish stream has no end marker, so the block finishes when nothing has arrived
/// for `idle` after the first message (or when nothing at all arrived within `wait`,
/// which is an error naming the address). A message that is not a whole number of
/// samples fails the flowgraph.
///
/// # Stream Inputs
///
/// No stream inputs.
///
/// # Stream Outputs
///
/// `output`: the samples received, in order.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```ignore
/// let src = fg.add(ZmqSubSource::new("tcp://127.0.0.1:5555", idle, wait));
/// ```
#[derive(Block)]
#[blocking]
pub struct ZmqSubSource<O = DefaultCpuWriter<Complex32>>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    address: String,
    idle: Duration,
    wait: Duration,
    socket: Option<zmq::Socket>,
    started: Option<Instant>,
    last_message: Option<Instant>,
    pending: Vec<Complex32>,
    pending_pos: usize,
    received: u64,
    #[output]
    output: O,
}

impl ZmqSubSource<DefaultCpuWriter<Complex32>> {
    /// A subscriber to `address` that ends after `idle` without data, and gives up if
    /// nothing arrives within `wait`.
    pub fn new(address: &str, idle: Duration, wait: Duration) -> Self {
        Self {
            address: address.to_string(),
            idle,
            wait,
            socket: None,
            started: None,
            last_message: None,
            pending: Vec::new(),
            pending_pos: 0,
            received: 0,
            output: DefaultCpuWriter::default(),
        }
    }
}

impl<O> ZmqSubSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    /// Samples received.
    pub fn samples_received(&self) -> u64 {
        self.received
    }

    fn error(&self, what: &str, e: zmq::Error) -> anyhow::Error {
        anyhow::anyhow!("ZeroMQ subscriber {}: {what}: {e}", self.address)
    }
}

#[doc(hidden)]
impl<O> Kernel for ZmqSubSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn init(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        let socket = zmq::Context::new()
            .socket(zmq::SUB)
            .map_err(|e| self.error("socket", e))?;
        socket
            .connect(&self.address)
            .map_err(|e| self.error("connect", e))?;
        socket
            .set_subscribe(b"")
            .map_err(|e| self.error("subscribe", e))?;
        socket
            .set_rcvtimeo(50)
            .map_err(|e| self.error("timeout", e))?;
        self.socket = Some(socket);
        self.started = Some(Instant::now());
        Ok(())
    }

    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        if self.pending_pos == self.pending.len() {
            let Some(socket) = self.socket.as_ref() else {
                anyhow::bail!("ZeroMQ subscriber {}: work() before init()", self.address);
            };
            match socket.recv_bytes(0) {
                Ok(bytes) => {
                    if !bytes.len().is_multiple_of(CF32_BYTES_PER_SAMPLE) {
                        anyhow::bail!(
                            "ZeroMQ subscriber {}: a {}-byte message is not a whole number \
                             of complex64 samples",
                            self.address,
                            bytes.len()
                        );
                    }
                    self.pending.clear();
                    self.pending_pos = 0;
                    decode_cf32(&bytes, &mut self.pending);
                    self.last_message = Some(Instant::now());
                }
                Err(zmq::Error::EAGAIN) => {
                    match self.last_message {
                        Some(t) if t.elapsed() > self.idle => io.finished = true,
                        None if self.started.is_some_and(|t| t.elapsed() > self.wait) => {
                            anyhow::bail!(
                                "ZeroMQ subscriber {}: nothing received within {:?}",
                                self.address,
                                self.wait
                            );
                        }
                        _ => io.call_again = true,
                    }
                    return Ok(());
                }
                Err(e) => return Err(self.error("receive", e)),
            }
        }
        let out = self.output.slice();
        let n = out.len().min(self.pending.len() - self.pending_pos);
        out[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
        self.output.produce(n);
        self.pending_pos += n;
        self.received += n as u64;
        io.call_again = true;
        Ok(())
    }
}
