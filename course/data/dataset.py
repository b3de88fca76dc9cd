"""A torchvision-compatible MNIST `Dataset`, for lessons that teach Dataset/DataLoader/transforms.

Per-sample Python work (PIL images, `__getitem__`) is slow by nature; training code should use
`course.data.batches` instead. This class exists to show how the standard pipeline works.
"""
import torch
from PIL import Image

from course.data.mnist import load_mnist

__all__ = ["MNIST"]


class MNIST(torch.utils.data.Dataset):
    """Like `torchvision.datasets.MNIST(root, train, transform, target_transform)`, from local files.

    `dataset[i]` is `(PIL.Image 28x28 'L', int label)` before transforms, as in torchvision.
    """

    classes = [f"{d} - {w}" for d, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, *, verify=True):
        (xtr, ytr), (xte, yte) = load_mnist(root, verify=verify)
        self.data, self.targets = (xtr, ytr.long()) if train else (xte, yte.long())
        self.train = train
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img = Image.fromarray(self.data[index].numpy())  # uint8 (28, 28) -> mode "L"
        target = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        return f"MNIST(split={'train' if self.train else 'test'}, n={len(self)})"
