/* Corpus replay without libFuzzer: feeds each file named on the command
 * line (or every file in a directory) to LLVMFuzzerTestOneInput once. A
 * crash, sanitizer report or hang fails the test that runs it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned done = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *e;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]))
				return 1;
			done++;
			continue;
		}
		dir = opendir(argv[i]);
		while (dir && (e = readdir(dir))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (replay_file(path))
				return 1;
			done++;
		}
		if (dir)
			closedir(dir);
	}
	printf("replayed %u inputs\n", done);
	return done ? 0 : 1;
}
