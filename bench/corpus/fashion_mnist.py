"""Trains a small CNN and an MLP on Fashion-MNIST and exports both to ONNX.

Run with Debian's python, which has torch (the project's .venv does not):

    /usr/bin/python3 bench/corpus/fashion_mnist.py [--epochs-cnn 8] [--epochs-mlp 10]

Data: Debian's dataset-fashion-mnist. The official 10k test file is kept as
held-out evaluation data; a fixed random 1,000 images of the training file
form the calibration set (saved with their labels to
models/fashion_mnist_calibration.npz) and are never trained on; training uses
the other 59,000.

Writes models/fashion_mnist_{cnn,mlp}.onnx (input "image" float32
[batch,1,28,28] normalized with common.FASHION_MEAN/STD, output "logits"
[batch,10]) and models/fashion_mnist_training.json (the settings and the
test accuracies torch measured).
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

import common


def cnn():
    """Three conv blocks then a small classifier (~0.2 M parameters, ~2 M
    multiply-adds per image): the first convolution is kept narrow because
    it runs at full 28x28 resolution and dominates the cost, so that training
    stays quick on two shared cores while reaching ~90%."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 14x14
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 7x7
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(64 * 7 * 7, 64), nn.ReLU(),
        nn.Linear(64, 10))


def mlp():
    """Two hidden layers on the flattened image."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 256), nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10))


def accuracy(model, images, labels, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = model(images[start:start + batch])
            correct += (logits.argmax(1) == labels[start:start + batch]).sum().item()
    return correct / len(images)


def train(name, model, data, epochs, lr, seed):
    """Adam with a one-cycle schedule (warm-up, then cosine decay),
    minibatches of 128; light augmentation (random horizontal flips) for the
    CNN only."""
    (x_train, y_train), (x_test, y_test) = data
    common.seed_everything(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(x_train) + 127) // 128
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * 128:(i + 1) * 128]
            x, y = x_train[idx], y_train[idx]
            if name == "cnn":
                flip = torch.rand(len(x), generator=generator) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        print(f"{name} epoch {epoch + 1}/{epochs}: loss {total / steps_per_epoch:.4f}, "
              f"test top-1 {accuracy(model, x_test, y_test):.4f} ({time.time() - start:.0f} s)",
              flush=True)
    return accuracy(model, x_test, y_test), time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs-cnn", type=int, default=8)
    parser.add_argument("--epochs-mlp", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train_images, train_labels = common.load_fashion_mnist("train")
    test_images, test_labels = common.load_fashion_mnist("t10k")
    training, calibration = common.fashion_train_calibration_split()
    common.MODELS_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(common.FASHION_CALIBRATION,
                        images=train_images[calibration], labels=train_labels[calibration],
                        indices=calibration, mean=common.FASHION_MEAN, std=common.FASHION_STD)
    print(f"wrote {common.FASHION_CALIBRATION}")

    as_tensors = lambda images, labels: (torch.from_numpy(common.normalize_images(images)),
                                         torch.from_numpy(labels.astype(np.int64)))
    data = (as_tensors(train_images[training], train_labels[training]),
            as_tensors(test_images, test_labels))

    record = {"seed": args.seed, "train_images": len(training),
              "calibration_images": len(calibration), "test_images": len(test_images),
              "normalization": {"mean": common.FASHION_MEAN, "std": common.FASHION_STD},
              "models": {}}
    settings = {"cnn": (cnn, args.epochs_cnn, 2e-3), "mlp": (mlp, args.epochs_mlp, 1e-3)}
    for name, (build, epochs, lr) in settings.items():
        torch.manual_seed(args.seed)
        model = build()
        top1, seconds = train(name, model, data, epochs, lr, args.seed)
        common.export_onnx(model, data[1][0][:2], common.FASHION_MODELS[name], "image", "logits",
                           {"image": {0: "batch"}, "logits": {0: "batch"}})
        record["models"][name] = {
            "file": common.FASHION_MODELS[name].name, "epochs": epochs, "max_lr": lr,
            "parameters": sum(p.numel() for p in model.parameters()),
            "torch_test_top1": top1, "train_seconds": round(seconds)}
    common.write_json(common.FASHION_TRAINING, record)


if __name__ == "__main__":
    main()
