// ggml's own MXFP4 quantizer and dequantizer on raw little-endian floats, for testdata/mxfp4.
//   mxfp4-ggml quant IN.f32 OUT.mxfp4 OUT.deq    quantize_row_mxfp4_ref (through ggml_quantize_chunk), then to_float
//   mxfp4-ggml deq FILE.gguf TENSOR OUT.f32       to_float of one tensor of a GGUF file
// Build against a llama.cpp build tree S:
//   gcc -O2 -fopenmp -I$S/ggml/include mxfp4-ggml.c $S/build/ggml/src/libggml-base.a -lm -lpthread -lstdc++ -o mxfp4-ggml
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "gguf.h"

static void put(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "quant") == 0) {
        FILE *f = fopen(argv[2], "rb");
        fseek(f, 0, SEEK_END);
        long n = ftell(f) / 4;
        fseek(f, 0, SEEK_SET);
        float *x = malloc(n * 4);
        if (fread(x, 4, n, f) != (size_t) n) return 1;
        fclose(f);
        size_t bytes = ggml_row_size(GGML_TYPE_MXFP4, n);
        void *q = malloc(bytes);
        ggml_quantize_chunk(GGML_TYPE_MXFP4, x, q, 0, 1, n, NULL);
        float *y = malloc(n * 4);
        ggml_get_type_traits(GGML_TYPE_MXFP4)->to_float(q, y, n);
        put(argv[3], q, bytes);
        put(argv[4], y, n * 4);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "deq") == 0) {
        struct ggml_context *ctx = NULL;
        struct gguf_init_params p = { .no_alloc = false, .ctx = &ctx };
        if (!gguf_init_from_file(argv[2], p)) return 1;
        struct ggml_tensor *t = ggml_get_tensor(ctx, argv[3]);
        if (!t) return 1;
        int64_t n = ggml_nelements(t);
        float *y = malloc(n * 4);
        ggml_get_type_traits(t->type)->to_float(t->data, y, n);
        put(argv[4], y, n * 4);
        return 0;
    }
    fprintf(stderr, "usage: mxfp4-ggml quant IN OUT.mxfp4 OUT.deq | deq FILE.gguf TENSOR OUT.f32\n");
    return 2;
}
