//! Per-image latency of the semantic model on CPU with the shipped weights
//! (`weights/default`): the transmitter (vision encoder, KAN projector, KAN channel
//! encoder), the receiver's image path (KAN channel decoder, image decoder), and a
//! caption answered by the language model from the received tokens. One image per
//! call (batch 1), AWGN at 20 dB between the two ends, one CPU thread per operation
//! unless `RAYON_NUM_THREADS` says otherwise.
//!
//! `cargo bench --bench semantic_latency`

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use m4sc::data::dataset::Split;
use m4sc::data::image_io::image_to_tensor;
use m4sc::semantic::channel_layer::ChannelKind;
use m4sc::semantic::model::{ReceivedTokens, SemanticModel};
use m4sc::semantic::template::{Instruction, Task};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Duration;

const SNR_DB: f32 = 20.0;

fn first_image(device: &Device) -> Tensor {
    let split = Split::load(Path::new("data/eval")).expect("committed evaluation subset");
    let ex = split
        .examples
        .iter()
        .find(|e| e.image.is_some())
        .expect("an example with an image");
    let img = split
        .load_image(ex)
        .expect("readable image")
        .expect("image present");
    image_to_tensor(&img, device)
        .expect("image tensor")
        .unsqueeze(0)
        .expect("batch axis")
}

fn bench(c: &mut Criterion) {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // Before any tensor work: candle's CPU kernels read it once.
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let device = Device::Cpu;
    let (model, tokenizer) =
        SemanticModel::load(Path::new("weights/default"), &device).expect("shipped weights");
    let image = first_image(&device);
    let snr = Tensor::new(&[SNR_DB], &device).expect("snr tensor");
    let mut rng = ChaCha8Rng::seed_from_u64(1);

    let mut g = c.benchmark_group("semantic_per_image");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("encode", |b| {
        b.iter(|| {
            let tokens = model.encode_image(&image).expect("encode");
            model.to_channel(&tokens).expect("channel encoder")
        })
    });
    let symbols = model
        .to_channel(&model.encode_image(&image).expect("encode"))
        .expect("channel encoder");
    let (equalized, noise_var) = model
        .transmit(&symbols, &snr, ChannelKind::Awgn, &mut rng)
        .expect("channel");
    g.bench_function("decode_reconstruct", |b| {
        b.iter(|| {
            let tokens = model
                .from_channel(&equalized, &noise_var, &snr)
                .expect("channel decoder");
            model.reconstruct_image(&tokens).expect("image decoder")
        })
    });
    g.bench_function("encode_channel_decode_reconstruct", |b| {
        b.iter(|| {
            let tokens = model.encode_image(&image).expect("encode");
            let symbols = model.to_channel(&tokens).expect("channel encoder");
            let (eq, nv) = model
                .transmit(&symbols, &snr, ChannelKind::Awgn, &mut rng)
                .expect("channel");
            let rx = model.from_channel(&eq, &nv, &snr).expect("channel decoder");
            model.reconstruct_image(&rx).expect("image decoder")
        })
    });
    let received = ReceivedTokens {
        image: Some(
            model
                .from_channel(&equalized, &noise_var, &snr)
                .and_then(|t| t.squeeze(0))
                .expect("received tokens"),
        ),
        text: None,
    };
    let caption = Instruction {
        task: Task::new(Task::CAPTION).expect("built-in task"),
        question: None,
        has_image: true,
        has_text: false,
    };
    g.bench_function("decode_caption", |b| {
        b.iter(|| {
            model
                .answer(&tokenizer, &caption, &received)
                .expect("caption")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
