"""Reading load signals: vLLM's ORCA header (TEXT and JSON) and every engine's metric names."""

from __future__ import annotations

import pytest

from inferlane.discovery.load_report import LoadReport, parse_metrics, parse_orca

VLLM = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
vllm:num_requests_waiting{engine="0",model_name="m"} 4.0
vllm:num_requests_waiting{engine="1",model_name="m"} 1.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.5
vllm:num_requests_waiting_by_reason{engine="0",reason="x"} 99.0
vllm:cache_config_info{block_size="16",engine="0",num_gpu_blocks="28000"} 1.0
vllm:lora_requests_info{max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters=""} 1.7e9
vllm:lora_requests_info{max_lora="2",running_lora_adapters="a",waiting_lora_adapters="c"} 1.8e9
vllm:engine_sleep_state{engine="0",model_name="m",sleep_state="awake"} 1.0
vllm:engine_sleep_state{engine="0",model_name="m",sleep_state="weights_offloaded"} 0.0
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 7.0
"""


def test_vllm_page_sums_ranks_takes_the_newest_lora_series_and_the_geometry():
    report = parse_metrics(VLLM)
    assert report.queue_depth == 5 and report.running == 5
    assert report.kv_usage == 0.5  # the fullest rank
    assert (report.num_gpu_blocks, report.block_size) == (28000, 16)
    assert report.loras_loaded == frozenset({"a"}) and report.loras_waiting == frozenset({"c"})
    assert report.max_loras == 2
    assert report.sleeping is False


def test_vllm_deprecated_kv_name_is_read_when_the_current_one_is_absent():
    assert parse_metrics('vllm:gpu_cache_usage_perc{model_name="m"} 0.7\n').kv_usage == 0.7
    both = 'vllm:gpu_cache_usage_perc{model_name="m"} 0.7\nvllm:kv_cache_usage_perc{model_name="m"} 0.1\n'
    assert parse_metrics(both).kv_usage == 0.1


def test_sleeping_vllm_engine():
    page = (
        'vllm:engine_sleep_state{sleep_state="awake"} 0.0\n'
        'vllm:engine_sleep_state{sleep_state="discard_all"} 1\n'
    )
    assert parse_metrics(page).sleeping is True


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            'sglang:num_queue_reqs{model_name="m"} 3\nsglang:num_running_reqs{model_name="m"} 7\n'
            'sglang:token_usage{model_name="m"} 0.4\n'
            'sglang:cache_config_info{page_size="1",num_pages="9000"} 1\n',
            LoadReport(queue_depth=3, running=7, kv_usage=0.4, num_gpu_blocks=9000, block_size=1),
        ),
        ("tgi_queue_size 2\ntgi_batch_current_size 5\n", LoadReport(queue_depth=2, running=5)),
        (
            "trtllm_num_requests_waiting 1\ntrtllm_num_requests_running 4\ntrtllm_kv_cache_utilization 0.3\n"
            "trtllm_kv_cache_max_blocks 5000\ntrtllm_kv_cache_tokens_per_block 32\n",
            LoadReport(queue_depth=1, running=4, kv_usage=0.3, num_gpu_blocks=5000, block_size=32),
        ),
        (
            'nv_trt_llm_request_metrics{model="m",request_type="waiting",version="1"} 6\n'
            'nv_trt_llm_request_metrics{model="m",request_type="scheduled",version="1"} 2\n'
            'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",model="m"} 0.9\n'
            'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="m"} 100\n'
            'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="m"} 64\n',
            LoadReport(queue_depth=6, running=2, kv_usage=0.9, num_gpu_blocks=100, block_size=64),
        ),
        ('nv_inference_pending_request_count{model="m",version="1"} 8\n', LoadReport(queue_depth=8)),
        ("# nothing we know\nfoo_bar 1\n", LoadReport()),
    ],
    ids=["sglang", "tgi", "trtllm", "triton-trtllm", "triton", "unknown"],
)
def test_other_engines(page, expected):
    assert parse_metrics(page) == expected


def test_a_named_flavor_reads_only_its_own_names():
    page = "tgi_queue_size 2\nvllm:num_requests_waiting 9\n"
    assert parse_metrics(page, "tgi").queue_depth == 2
    assert parse_metrics(page, "vllm").queue_depth == 9


@pytest.mark.parametrize(
    "header",
    [
        "TEXT named_metrics.kv_cache_usage_perc=0.42, named_metrics.num_requests_waiting=3.0, "
        "named_metrics.num_requests_running=12.0",
        'JSON {"named_metrics": {"kv_cache_usage_perc": 0.42, "num_requests_waiting": 3, '
        '"num_requests_running": 12}}',
        "named_metrics.kv_cache_usage_perc=0.42,named_metrics.num_requests_waiting=3,"
        "named_metrics.num_requests_running=12",
    ],
    ids=["text", "json", "bare"],
)
def test_orca_header(header):
    assert parse_orca(header) == LoadReport(queue_depth=3, running=12, kv_usage=0.42)


@pytest.mark.parametrize("header", ["", "TEXT", "JSON {not json", "TEXT cpu_utilization=x", "JSON []"])
def test_orca_header_without_known_metrics(header):
    assert parse_orca(header) is None
