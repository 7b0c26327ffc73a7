"""from_torch(): a tiny snnTorch-free Conv + threshold network, exported in memory."""
import numpy as np
import pytest
import snnplan

torch = pytest.importorskip("torch")


class ConvThreshold(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 6, kernel_size=3, stride=1, padding=1)

    def forward(self, x):
        return (self.conv(x) > 0.25).float()


def test_from_torch_imports_and_runs_like_pytorch():
    torch.manual_seed(0)
    net = ConvThreshold().eval()
    x = torch.rand(1, 2, 12, 12)
    w = snnplan.from_torch(net, x, timesteps=1, input_names=["x"], output_names=["spikes"],
                           opset_version=13)
    assert w.model_file == "ConvThreshold.onnx"
    assert len(w.layers) == 1
    layer = w.layers[0]
    assert layer["op"] == "conv"
    assert layer["dims"]["K"] == net.conv.out_channels
    assert layer["dims"]["C"] == net.conv.in_channels
    assert (layer["dims"]["FY"], layer["dims"]["FX"]) == net.conv.kernel_size
    assert layer["out_shape"] == [6, 12, 12]
    assert layer["neuron"] != "none"
    assert layer["weights"] == sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        expected = net(x).numpy()
    got = snnplan.run(w, {"x": x.numpy()})["spikes"]
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    # The imported workload plans like any other.
    assert snnplan.plan(w, schedule="st-lbl").summary["tiles"] > 0
