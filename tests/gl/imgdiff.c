/* imgdiff.c — compares two binary PPM pictures of the same size (the gears
 * frames of tests/gl/gears-frame.sh): a pixel differs when one of its channels
 * differs by more than TOL; the pictures match when at most MAXFRAC of the
 * pixels differ. Prints the counts either way.
 * usage: imgdiff A.ppm B.ppm [TOL [MAXFRAC]]   (exit 0: match, 1: differ, 2: unreadable) */
#include <stdio.h>
#include <stdlib.h>

static unsigned char *read_ppm(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    int max;
    unsigned char *px = NULL;
    if (!f) return NULL;
    if (fscanf(f, "P6 %d %d %d", w, h, &max) == 3 && max == 255 && *w > 0 && *h > 0 && *w < 65536 &&
        *h < 65536 && fgetc(f) != EOF) {
        size_t n = (size_t)*w * (size_t)*h * 3;
        px = malloc(n);
        if (px && fread(px, 1, n, f) != n) {
            free(px);
            px = NULL;
        }
    }
    fclose(f);
    return px;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: imgdiff A.ppm B.ppm [TOL [MAXFRAC]]\n");
        return 2;
    }
    int tol = argc > 3 ? atoi(argv[3]) : 2;
    double maxfrac = argc > 4 ? atof(argv[4]) : 0.001;
    int aw, ah, bw, bh;
    unsigned char *a = read_ppm(argv[1], &aw, &ah), *b = read_ppm(argv[2], &bw, &bh);
    if (!a || !b) {
        fprintf(stderr, "imgdiff: cannot read %s\n", a ? argv[2] : argv[1]);
        return 2;
    }
    if (aw != bw || ah != bh) {
        printf("imgdiff: sizes differ: %dx%d and %dx%d\n", aw, ah, bw, bh);
        return 1;
    }
    long npx = (long)aw * ah, differ = 0, unequal = 0, lit = 0;
    int worst = 0;
    for (long i = 0; i < npx; i++) {
        int d = 0;
        for (int c = 0; c < 3; c++) {
            int e = abs(a[i * 3 + c] - b[i * 3 + c]);
            if (e > d) d = e;
        }
        if (d > worst) worst = d;
        unequal += d > 0;
        differ += d > tol;
        lit += a[i * 3] | a[i * 3 + 1] | a[i * 3 + 2] ? 1 : 0;
    }
    printf("imgdiff: %dx%d, %ld pixels not black, %ld not equal, %ld beyond %d (largest difference "
           "%d)\n",
           aw, ah, lit, unequal, differ, tol, worst);
    if (lit == 0) {
        printf("imgdiff: the picture is black\n");
        return 1;
    }
    return differ <= (long)(maxfrac * (double)npx) ? 0 : 1;
}
