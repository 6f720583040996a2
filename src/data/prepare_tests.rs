//! Tests of `prepare.rs` on a small raw folder written by the test itself.

use super::*;
use crate::data::dataset::{Split, ALL_TASKS};
use crate::data::eval_subset::write_eval_subset;
use crate::data::image_io::{load_image, save_png};
use crate::data::mnist::{IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("m4sc-prepare-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// easy-VQA stand-in (scene renders, one repeated across both parts), 250 random
/// digits and 120 distinct sentences.
fn write_raw(raw: &Path) {
    let mut k = 0;
    for (part, n) in [("train", 40), ("test", 10)] {
        let dir = raw.join("easy_vqa/data").join(part);
        std::fs::create_dir_all(dir.join("images")).unwrap();
        let mut qs = Vec::new();
        for id in 0..n {
            // Image 0 of both parts is the same picture.
            let seed = if id == 0 { 999 } else { 1000 + k };
            k += 1;
            save_png(
                &Scene::generate(seed).render(),
                &dir.join(format!("images/{id}.png")),
            )
            .unwrap();
            qs.push(serde_json::json!(["what color is the shape?", "red", id]));
            qs.push(serde_json::json!(["what shape is present?", "circle", id]));
            qs.push(serde_json::json!(["is there a blue shape?", "no", id]));
        }
        std::fs::write(
            dir.join("questions.json"),
            serde_json::to_string(&qs).unwrap(),
        )
        .unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    std::fs::create_dir_all(raw.join("mnist")).unwrap();
    for (part, n) in [("train", 200u32), ("t10k", 50)] {
        let px: Vec<u8> = (0..n * 28 * 28).map(|_| rng.random()).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let m = raw.join("mnist");
        let images = idx(IDX_IMAGES_MAGIC, &[n, 28, 28], &px);
        std::fs::write(m.join(format!("{part}-images.idx3-ubyte")), images).unwrap();
        let labels = idx(IDX_LABELS_MAGIC, &[n], &labels);
        std::fs::write(m.join(format!("{part}-labels.idx1-ubyte")), labels).unwrap();
    }
    let en = raw.join("chatterbot_corpus/data/english");
    std::fs::create_dir_all(&en).unwrap();
    let mut yml = String::from("categories:\n- test\nconversations:\n");
    for i in 0..60 {
        yml += &format!("- - Question number {i} is here?\n  - Answer number {i} is there.\n");
    }
    std::fs::write(en.join("test.yml"), yml).unwrap();
}

fn options(raw: &Path, out: &Path, seed: u64) -> PrepareOptions {
    PrepareOptions {
        seed,
        sizes: [60, 20, 20],
        ..PrepareOptions::new(raw, out)
    }
}

#[test]
fn splits_are_deterministic_disjoint_and_complete() {
    let root = temp_dir("splits");
    let raw = root.join("raw");
    write_raw(&raw);
    let a = prepare(&options(&raw, &root.join("a"), 7)).unwrap();
    let b = prepare(&options(&raw, &root.join("b"), 7)).unwrap();
    let c = prepare(&options(&raw, &root.join("c"), 8)).unwrap();
    let read =
        |d: &str, s: &str| std::fs::read(root.join(d).join(s).join("examples.jsonl")).unwrap();
    for s in SPLITS {
        assert_eq!(
            read("a", s),
            read("b", s),
            "{s}: same seed must give the same split"
        );
    }
    assert_ne!(
        read("a", "train"),
        read("c", "train"),
        "the seed must matter"
    );
    assert_eq!(
        a.splits.iter().map(|s| s.n_examples).collect::<Vec<_>>(),
        vec![60, 20, 20]
    );
    assert_eq!(a.splits[0].n_examples, b.splits[0].n_examples);
    assert_eq!(c.splits.len(), 3);

    let mut image_owner: BTreeMap<u64, &str> = BTreeMap::new();
    let mut text_owner: BTreeMap<String, &str> = BTreeMap::new();
    for name in SPLITS {
        let split = Split::load(&root.join("a").join(name)).unwrap();
        for task in ALL_TASKS {
            assert!(split.task(task).count() > 0, "{name}: no {task} examples");
        }
        for ex in &split.examples {
            if let Some(p) = split.image_path(ex) {
                let img = load_image(&p).unwrap();
                assert_eq!(img.dimensions(), (64, 64));
                let owner = image_owner
                    .entry(content_hash(0, img.as_raw()))
                    .or_insert(name);
                assert_eq!(*owner, name, "image {} is in two splits", p.display());
            }
            if let Some(t) = &ex.text {
                let owner = text_owner.entry(t.clone()).or_insert(name);
                assert_eq!(*owner, name, "sentence {t:?} is in two splits");
                assert_eq!(&ex.answer, t, "the text task's answer is the sentence");
            }
            if ex.task == TASK_CLASSIFY {
                assert!(ex.answer.len() == 1 && ex.answer.as_bytes()[0].is_ascii_digit());
            }
        }
    }

    let eval = write_eval_subset(&root.join("a/test"), &root.join("eval"), 2).unwrap();
    let split = Split::load(&root.join("eval")).unwrap();
    assert_eq!(split.examples.len(), eval.n_examples);
    for task in ALL_TASKS {
        let n = split.task(task).count();
        assert!((1..=4).contains(&n), "eval subset: {n} {task} examples");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn task_counts_sum_to_the_split_size() {
    for size in [0, 1, 7, 100, 20_000] {
        let c = task_counts(&TaskMix::default(), size);
        assert_eq!(c.iter().sum::<usize>(), size, "size {size}: {c:?}");
    }
    assert_eq!(
        task_counts(&TaskMix::default(), 20_000),
        [4000, 4000, 6000, 3000, 3000]
    );
    let bad = PrepareOptions {
        scene_fraction: 1.5,
        ..PrepareOptions::new(Path::new("r"), Path::new("o"))
    };
    assert!(matches!(prepare(&bad), Err(PrepareError::Option(_))));
}

#[test]
fn split_assignment_follows_the_hash_buckets() {
    let n = 100_000u64;
    let mut counts = [0usize; 3];
    for i in 0..n {
        counts[split_of(content_hash(1, &i.to_le_bytes()))] += 1;
    }
    // 80 / 10 / 10 % within 1 % of the total.
    for (got, pct) in counts.iter().zip(SPLIT_PERCENT) {
        let expected = (n * pct / 100) as f64;
        assert!(
            (*got as f64 - expected).abs() < n as f64 * 0.01,
            "{counts:?}"
        );
    }
}
