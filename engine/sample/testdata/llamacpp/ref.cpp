// Reference outputs for edgeprof's engine/sample, produced with the C++
// standard library pieces llama.cpp c392e5094 samples with: std::mt19937,
// std::discrete_distribution<int> (libstdc++'s generate_canonical with two
// 32-bit draws per double), std::partial_sort and glibc expf.
//
// The chain follows llama.cpp's default sampler chain restricted to
// top-k -> top-p -> temperature -> dist (llama-cli with --min-p 0; the
// other default samplers are no-ops at their defaults), as implemented in
// src/llama-sampling.cpp at that commit: top-k with k <= 0 keeps (and
// sorts) everything, top-p keeps the smallest prefix whose float running
// sum reaches p (min_keep 0), temperature divides the logits, dist takes a
// float softmax of the sorted candidates and draws with
// std::discrete_distribution. llama.cpp sorts with a bucket sort when
// k > 128; that differs from std::partial_sort only in the order of equal
// logits, and the generated logits below are all distinct.
//
// This is a reference check, not part of edgeprof. Build and run:
//   g++ -O2 -std=c++17 -o ref ref.cpp && ./ref > ref_output.txt
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

struct cand {
    int id;
    float logit;
    float p;
};

// Distinct logits for vocabulary size n (a power of two): a bijection of
// [0, n) scaled to [-8, 8) exactly (n/16 is a power of two).
static float gen_logit(uint32_t n, uint32_t step, uint32_t i) {
    uint32_t x = (i * 2654435761u + step * 40503u + 12345u) & (n - 1);
    x ^= x >> 3;
    x = (x * 0x9E3779B1u) & (n - 1);
    return (float) ((int) x - (int) (n / 2)) / (float) (n / 16);
}

static void softmax_sorted(std::vector<cand> & c) {
    float max_l = c[0].logit;
    float sum = 0.0f;
    for (auto & x : c) {
        x.p = expf(x.logit - max_l);
        sum += x.p;
    }
    for (auto & x : c) {
        x.p /= sum;
    }
}

static int sample_chain(uint32_t n, uint32_t step, int top_k, float top_p, float temp, std::mt19937 & rng) {
    std::vector<cand> c;
    for (uint32_t i = 0; i < n; i++) {
        c.push_back({(int) i, gen_logit(n, step, i), 0.0f});
    }
    int k = top_k <= 0 ? (int) c.size() : std::min(top_k, (int) c.size());
    std::partial_sort(c.begin(), c.begin() + k, c.end(), [](const cand & a, const cand & b) { return a.logit > b.logit; });
    c.resize(k);
    if (top_p < 1.0f) {
        softmax_sorted(c);
        float cum = 0.0f;
        size_t last = c.size();
        for (size_t i = 0; i < c.size(); i++) {
            cum += c[i].p;
            if (cum >= top_p) {
                last = i + 1;
                break;
            }
        }
        c.resize(last);
    }
    for (auto & x : c) {
        x.logit /= temp;
    }
    softmax_sorted(c);
    std::vector<float> probs;
    for (auto & x : c) {
        probs.push_back(x.p);
    }
    std::discrete_distribution<int> dist(probs.begin(), probs.end());
    return c[dist(rng)].id;
}

int main() {
    {
        std::mt19937 rng(5489u);
        uint32_t first = rng();
        for (int i = 2; i < 10000; i++) rng();
        printf("mt19937 5489: first=%u 10000th=%u\n", first, (uint32_t) rng());
    }
    for (uint32_t seed : {0u, 1u, 42u, 0xFFFFFFFFu}) {
        std::mt19937 rng(seed);
        printf("mt19937 %u:", seed);
        for (int i = 0; i < 5; i++) printf(" %u", (uint32_t) rng());
        printf("\n");
    }
    {
        std::mt19937 rng(42u);
        printf("canonical 42:");
        for (int i = 0; i < 8; i++) printf(" %a", std::generate_canonical<double, 53>(rng));
        printf("\n");
    }
    {
        std::mt19937 rng(1234u);
        std::vector<float> w = {0.1f, 0.2f, 0.3f, 0.4f};
        std::discrete_distribution<int> dist(w.begin(), w.end());
        printf("discrete 1234 0.1,0.2,0.3,0.4:");
        for (int i = 0; i < 20; i++) printf(" %d", dist(rng));
        printf("\n");
    }
    {
        // One candidate: libstdc++ returns 0 without drawing.
        std::mt19937 rng(77u);
        std::vector<float> w = {1.0f};
        std::discrete_distribution<int> dist(w.begin(), w.end());
        int idx = dist(rng);
        printf("discrete-single 77: index=%d next=%u\n", idx, (uint32_t) rng());
    }
    {
        // std::lower_bound over partial sums, as discrete_distribution
        // draws, including NaN entries (which break its ordering).
        const double nan = std::nan("");
        std::vector<std::vector<double>> cums = {{nan, nan, nan, 1}, {0.1, 0.2, nan, nan, 1}, {0.25, 0.25, 0.25, 1}};
        for (size_t i = 0; i < cums.size(); i++) {
            printf("lower_bound %zu:", i);
            for (double u : {0.0, 0.1, 0.25, 0.5, 0.99}) {
                printf(" %td", std::lower_bound(cums[i].begin(), cums[i].end(), u) - cums[i].begin());
            }
            printf("\n");
        }
    }
    struct { uint32_t n; int top_k; float top_p; float temp; uint32_t seed; } cases[] = {
        {512, 40, 0.95f, 0.8f, 42u},
        {512, 0, 1.0f, 1.0f, 1u},
        {512, 200, 0.5f, 1.2f, 12345u},
        {512, 40, 0.1f, 0.8f, 5u},
        {512, 10, 1.0f, 0.1f, 0xFFFFFFFEu},
        {512, 1, 1.0f, 0.8f, 9u},
        {4096, 100, 0.99f, 2.0f, 2024u},
        {32768, 40, 0.9f, 0.7f, 3u},
        {32768, 0, 0.95f, 1.0f, 99u},
    };
    const int steps = 64;
    for (auto & cs : cases) {
        std::mt19937 rng(cs.seed);
        printf("chain n=%u top_k=%d top_p=%a temp=%a seed=%u steps=%d:", cs.n, cs.top_k, cs.top_p, cs.temp, cs.seed, steps);
        for (int s = 0; s < steps; s++) printf(" %d", sample_chain(cs.n, (uint32_t) s, cs.top_k, cs.top_p, cs.temp, rng));
        printf("\n");
    }
    return 0;
}
